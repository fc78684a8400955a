package datasets

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// npyArray is one array of a .npy file (numpy's NEP 1 format): its dtype, its shape and its
// raw bytes in C order. Only numeric dtypes are accepted; an object array (dtype 'O') is a
// pickle, which this package never runs.
type npyArray struct {
	kind  byte // 'f' float, 'i' signed int, 'u' unsigned int, 'b' bool, 'U'/'S' strings
	size  int  // bytes per element
	big   bool // big-endian
	shape []int
	data  []byte
}

// npyMagic opens every .npy file.
const npyMagic = "\x93NUMPY"

// parseNPY decodes a .npy file: magic, version (1.0, 2.0 or 3.0), a little-endian header
// length, a Python dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)} and the
// data. Fortran-order arrays of rank above one are refused (the npz graphs are all C order or
// 1-D). String arrays ('U', 'S') are accepted so that callers can skip them; object arrays are
// an error.
func parseNPY(b []byte) (*npyArray, error) {
	if len(b) < 10 || string(b[:6]) != npyMagic {
		return nil, fmt.Errorf("not a .npy array (no \\x93NUMPY magic)")
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, fmt.Errorf(".npy header truncated")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, fmt.Errorf(".npy format version %d.%d, want 1.0, 2.0 or 3.0", b[6], b[7])
	}
	if hlen > len(b)-off {
		return nil, fmt.Errorf(".npy header of %d bytes but only %d bytes follow (a truncated file)", hlen, len(b)-off)
	}
	header := string(b[off : off+hlen])
	a := &npyArray{data: b[off+hlen:]}
	descr, err := dictValue(header, "descr")
	if err != nil {
		return nil, err
	}
	if err := a.setDescr(descr); err != nil {
		return nil, err
	}
	fo, err := dictValue(header, "fortran_order")
	if err != nil {
		return nil, err
	}
	shapeLit, err := dictValue(header, "shape")
	if err != nil {
		return nil, err
	}
	if a.shape, err = parseShape(shapeLit); err != nil {
		return nil, err
	}
	if fo == "True" && len(a.shape) > 1 {
		return nil, fmt.Errorf(".npy array of shape %v in Fortran order: not supported, save it in C order", a.shape)
	}
	count := uint64(1)
	for _, d := range a.shape {
		var overflow bool
		if overflow, count = mulU64(count, uint64(d)); overflow {
			return nil, fmt.Errorf(".npy shape %v overflows", a.shape)
		}
	}
	if overflow, want := mulU64(count, uint64(a.size)); overflow || want != uint64(len(a.data)) {
		return nil, fmt.Errorf(".npy array of shape %v and %d-byte elements needs %d data bytes, has %d (a truncated or corrupt file)", a.shape, a.size, count*uint64(a.size), len(a.data))
	}
	return a, nil
}

// dictValue returns the literal text of key's value in a numpy header dict.
func dictValue(header, key string) (string, error) {
	i := strings.Index(header, "'"+key+"'")
	if i < 0 {
		return "", fmt.Errorf(".npy header %q has no %q", header, key)
	}
	rest := strings.TrimLeft(header[i+len(key)+2:], " ")
	if !strings.HasPrefix(rest, ":") {
		return "", fmt.Errorf(".npy header %q: no ':' after %q", header, key)
	}
	rest = strings.TrimLeft(rest[1:], " ")
	switch {
	case strings.HasPrefix(rest, "'"):
		end := strings.IndexByte(rest[1:], '\'')
		if end < 0 {
			return "", fmt.Errorf(".npy header %q: unterminated string for %q", header, key)
		}
		return rest[1 : end+1], nil
	case strings.HasPrefix(rest, "("):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return "", fmt.Errorf(".npy header %q: unterminated tuple for %q", header, key)
		}
		return rest[:end+1], nil
	case strings.HasPrefix(rest, "["):
		return "", fmt.Errorf(".npy header: %q is a structured dtype, want a plain numeric dtype", key)
	}
	end := strings.IndexAny(rest, ",}")
	if end < 0 {
		return "", fmt.Errorf(".npy header %q: no end for %q", header, key)
	}
	return strings.TrimSpace(rest[:end]), nil
}

// setDescr parses a dtype string such as '<f4', '|i1', '<U7'.
func (a *npyArray) setDescr(d string) error {
	if len(d) < 2 {
		return fmt.Errorf(".npy dtype %q not understood", d)
	}
	switch d[0] {
	case '<', '|', '=':
	case '>':
		a.big = true
	default:
		return fmt.Errorf(".npy dtype %q not understood", d)
	}
	a.kind = d[1]
	if a.kind == 'O' {
		return fmt.Errorf(".npy dtype %q is a pickled object array, which is never unpickled; want a numeric array", d)
	}
	n, err := strconv.Atoi(d[2:])
	if err != nil || n <= 0 || n > 1<<20 {
		return fmt.Errorf(".npy dtype %q not understood", d)
	}
	a.size = n
	switch {
	case a.kind == 'f' && (n == 4 || n == 8):
	case (a.kind == 'i' || a.kind == 'u') && (n == 1 || n == 2 || n == 4 || n == 8):
	case a.kind == 'b' && n == 1:
	case a.kind == 'U':
		a.size = 4 * n
	case a.kind == 'S':
	default:
		return fmt.Errorf(".npy dtype %q is not supported: want float32/64, int8..64, uint8..64 or bool", d)
	}
	return nil
}

// parseShape parses a shape tuple literal such as "(5429,)" or "(2, 3)" or "()".
func parseShape(s string) ([]int, error) {
	inner := strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
	var shape []int
	for _, f := range strings.Split(inner, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		f = strings.TrimSuffix(f, "L") // Python 2 longs
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return nil, fmt.Errorf(".npy shape %s: %q is not a non-negative integer", s, f)
		}
		shape = append(shape, v)
	}
	if len(shape) > 2 {
		return nil, fmt.Errorf(".npy shape %s: rank %d, want at most 2", s, len(shape))
	}
	return shape, nil
}

// numeric reports whether the array holds numbers (not strings).
func (a *npyArray) numeric() bool {
	return a.kind == 'f' || a.kind == 'i' || a.kind == 'u' || a.kind == 'b'
}

// len returns the number of elements.
func (a *npyArray) len() int { return len(a.data) / max(a.size, 1) }

// raw returns element i's bits, zero-extended.
func (a *npyArray) raw(i int) uint64 {
	p := a.data[i*a.size : (i+1)*a.size]
	var u uint64
	if a.big {
		for _, c := range p {
			u = u<<8 | uint64(c)
		}
		return u
	}
	for k := len(p) - 1; k >= 0; k-- {
		u = u<<8 | uint64(p[k])
	}
	return u
}

// float returns element i as a float64.
func (a *npyArray) float(i int) float64 {
	u := a.raw(i)
	switch a.kind {
	case 'f':
		if a.size == 4 {
			return float64(math.Float32frombits(uint32(u)))
		}
		return math.Float64frombits(u)
	case 'i':
		return float64(signExtend(u, a.size))
	}
	return float64(u)
}

// int returns element i as an int64; floats must be whole numbers.
func (a *npyArray) int(i int) (int64, error) {
	u := a.raw(i)
	switch a.kind {
	case 'i':
		return signExtend(u, a.size), nil
	case 'f':
		f := a.float(i)
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return 0, fmt.Errorf("element %d is %v, want an integer", i, f)
		}
		return int64(f), nil
	}
	if u > math.MaxInt64 {
		return 0, fmt.Errorf("element %d is %d, too large", i, u)
	}
	return int64(u), nil
}

func signExtend(u uint64, size int) int64 {
	shift := uint(64 - 8*size)
	return int64(u<<shift) >> shift
}

// ints returns all elements as ints.
func (a *npyArray) ints() ([]int, error) {
	if !a.numeric() {
		return nil, fmt.Errorf("dtype %c%d, want a numeric array", a.kind, a.size)
	}
	out := make([]int, a.len())
	for i := range out {
		v, err := a.int(i)
		if err != nil {
			return nil, err
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, fmt.Errorf("element %d is %d, out of the int32 range", i, v)
		}
		out[i] = int(v)
	}
	return out, nil
}
