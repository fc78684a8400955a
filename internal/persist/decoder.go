package persist

import (
	"encoding/binary"
	"math"
)

// Decoder reads little-endian fields from a byte slice, checking every length against what
// remains. The first error sticks: later calls return zero values and Err returns it.
type Decoder struct {
	b   []byte
	off int
	err error
}

// NewDecoder returns a Decoder over b, starting at byte off.
func NewDecoder(b []byte, off int) *Decoder { return &Decoder{b: b, off: off} }

// Err returns the first error.
func (d *Decoder) Err() error { return d.err }

// Fail records err unless an error is already recorded.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Offset returns the position of the next byte.
func (d *Decoder) Offset() int { return d.off }

// Remaining returns the number of bytes left.
func (d *Decoder) Remaining() int { return len(d.b) - d.off }

// Bytes returns the next n bytes (a slice of the input, not a copy). A negative n or one beyond
// what remains records a *TruncatedError naming what.
func (d *Decoder) Bytes(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.err = &TruncatedError{What: what, Offset: int64(d.off), Need: int64(n), Left: int64(len(d.b) - d.off)}
		return nil
	}
	s := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return s
}

// U8 reads a byte.
func (d *Decoder) U8(what string) uint8 {
	if s := d.Bytes(1, what); s != nil {
		return s[0]
	}
	return 0
}

// U32 reads a uint32.
func (d *Decoder) U32(what string) uint32 {
	if s := d.Bytes(4, what); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

// U64 reads a uint64.
func (d *Decoder) U64(what string) uint64 {
	if s := d.Bytes(8, what); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

// F64 reads a float64 from its IEEE 754 bits.
func (d *Decoder) F64(what string) float64 { return math.Float64frombits(d.U64(what)) }

// Count reads a uint32 count of items of unit bytes each (unit >= 1) and checks that
// count*unit bytes remain, so that a slice of count items may be allocated safely; otherwise it
// records a *TruncatedError and returns 0.
func (d *Decoder) Count(unit int, what string) int {
	n := d.U32(what)
	if d.err != nil {
		return 0
	}
	if left := uint64(len(d.b) - d.off); uint64(n)*uint64(unit) > left {
		d.err = &TruncatedError{What: what, Offset: int64(d.off), Need: int64(n) * int64(unit), Left: int64(left)}
		return 0
	}
	return int(n)
}

// F32s fills dst with float32 values from their IEEE 754 bits. With finite set, a NaN or an
// infinity records a Corruptf error naming what and the index.
func (d *Decoder) F32s(dst []float32, finite bool, what string) {
	s := d.Bytes(4*len(dst), what)
	if s == nil {
		return
	}
	for i := range dst {
		v := math.Float32frombits(binary.LittleEndian.Uint32(s[4*i:]))
		if finite && (math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)) {
			d.err = Corruptf("%s: value %d is %v", what, i, v)
			return
		}
		dst[i] = v
	}
}

// Finish returns the first error, or a Corruptf error if bytes remain after the last field.
func (d *Decoder) Finish(what string) error {
	if d.err != nil {
		return d.err
	}
	if d.off != len(d.b) {
		return Corruptf("%d unexpected bytes after %s", len(d.b)-d.off, what)
	}
	return nil
}

// Chunk reads a uint64 length and that many bytes (a slice of the input), checking the length
// against what remains first.
func (d *Decoder) Chunk(what string) []byte {
	n := d.U64(what)
	if d.err == nil && n > uint64(len(d.b)-d.off) {
		d.err = &TruncatedError{What: what, Offset: int64(d.off), Need: int64(min(n, 1<<62)), Left: int64(len(d.b) - d.off)}
		return nil
	}
	return d.Bytes(int(n), what)
}
