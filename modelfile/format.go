package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"unsafe"

	"github.com/gnnlab/gognn/internal/persist"
	"github.com/gnnlab/gognn/quant"
)

// Format constants of model files.
const (
	Magic     = "GOGNNMDL"
	Version   = 1       // the format version this package writes and the newest it reads
	Align     = 64      // every tensor starts at a multiple of Align bytes
	MaxHeader = 1 << 26 // largest header accepted, in bytes
)

const prefixSize = 20 // magic, version, header length, header CRC

// Errors about a file's content, shared with the module's other file formats (hnsw, search,
// models, datasets) so that errors.Is and errors.As work across packages. Every error about a
// damaged or malformed file matches ErrFormat (the same value as ErrCorrupt and as
// hnsw.ErrCorrupt); ErrChecksum, ErrTruncated and ErrMagic narrow it down. A file of a version
// this build does not read matches ErrVersion (not ErrFormat), as a *VersionError carrying the
// found and supported versions.
var (
	ErrFormat    = persist.ErrCorrupt
	ErrCorrupt   = persist.ErrCorrupt
	ErrChecksum  = persist.ErrChecksum
	ErrTruncated = persist.ErrTruncated
	ErrMagic     = persist.ErrMagic
	ErrVersion   = persist.ErrVersion
)

// The typed errors behind the sentinels, for errors.As.
type (
	ChecksumError  = persist.ChecksumError
	TruncatedError = persist.TruncatedError
	MagicError     = persist.MagicError
	VersionError   = persist.VersionError
)

// Precision selects how Write encodes tensors.
type Precision string

// The precisions of Write.
const (
	FP32 Precision = "fp32"
	FP16 Precision = "fp16"
	INT8 Precision = "int8"
)

func (p Precision) valid() bool { return p == FP32 || p == FP16 || p == INT8 }

// DType is how one tensor is stored.
type DType string

// The stored element types.
const (
	Float32 DType = "float32"
	Float16 DType = "float16"
	Int8    DType = "int8"
)

// Tensor is a named float32 tensor, as a model hands over its master weights: Data holds the
// values in row-major order of Shape (an empty Shape is a scalar).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// File describes a model file: what its header says.
type File struct {
	Version      uint32
	Precision    Precision
	Architecture json.RawMessage // as written; "null" when Write was given nil
	Tensors      []Info          // in file order
}

// Info describes one stored tensor.
type Info struct {
	Name   string `json:"name"`
	DType  DType  `json:"dtype"`
	Shape  []int  `json:"shape"`
	Offset int64  `json:"offset"` // of the data, from the start of the file
	Length int64  `json:"length"` // of the data in bytes, scales included
	CRC32C uint32 `json:"crc32c"` // of the data bytes
}

// Len returns the number of values, the product of the shape.
func (t Info) Len() int {
	n, _ := numValues(t.Shape)
	return n
}

// Tensor returns the description of the tensor called name.
func (f *File) Tensor(name string) (Info, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Info{}, false
}

// header is the JSON header.
type header struct {
	Precision    Precision       `json:"precision"`
	Architecture json.RawMessage `json:"architecture"`
	Tensors      []Info          `json:"tensors"`
}

// numValues returns the product of shape, or false if a dimension is negative or the product
// times 4 bytes would overflow an int.
func numValues(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(uint64(n), uint64(d))
		if hi != 0 || lo > math.MaxInt/4 {
			return 0, false
		}
		n = int(lo)
	}
	return n, true
}

// isMatrix reports whether int8 precision quantises a tensor of this shape.
func isMatrix(shape []int) bool { return len(shape) == 2 && shape[0] > 1 && shape[1] > 1 }

// dataLength returns the byte length of n values of shape in dtype dt, or false for an unknown
// dtype or an int8 tensor that is not (rows, cols).
func dataLength(dt DType, shape []int, n int) (int64, bool) {
	switch dt {
	case Float32:
		return 4 * int64(n), true
	case Float16:
		return 2 * int64(n), true
	case Int8:
		if len(shape) != 2 {
			return 0, false
		}
		return 4*int64(shape[1]) + int64(n), true
	}
	return 0, false
}

// parsePrefix checks the fixed prefix of a file of the given size and returns the header length
// and checksum.
func parsePrefix(path string, p []byte, size int64) (hlen int64, crc uint32, err error) {
	if err := persist.CheckMagic(p[:min(len(p), int(min(size, 8)))], "a model file", Magic); err != nil {
		return 0, 0, fmt.Errorf("modelfile: %s: %w", path, err)
	}
	if size < prefixSize || len(p) < prefixSize {
		return 0, 0, fmt.Errorf("modelfile: %s: %w", path, &persist.TruncatedError{What: "the prefix", Need: prefixSize, Left: size})
	}
	if err := persist.CheckVersion("a model file", binary.LittleEndian.Uint32(p[8:]), Version); err != nil {
		return 0, 0, fmt.Errorf("modelfile: %s: %w", path, err)
	}
	hlen = int64(binary.LittleEndian.Uint32(p[12:]))
	if hlen >= 2 && hlen <= MaxHeader && hlen > size-prefixSize {
		return 0, 0, fmt.Errorf("modelfile: %s: header: %w", path, &persist.TruncatedError{What: "the header", Offset: prefixSize, Need: hlen, Left: size - prefixSize})
	}
	if hlen < 2 || hlen > MaxHeader {
		return 0, 0, fmt.Errorf("modelfile: %s: %w: header length %d, file size %d (limit %d)", path, ErrFormat, hlen, size, MaxHeader)
	}
	return hlen, binary.LittleEndian.Uint32(p[16:]), nil
}

// parseHeader checks the header bytes against their checksum and everything the header says
// against itself and the file size.
func parseHeader(path string, h []byte, crc uint32, size int64) (*File, error) {
	if got := persist.Checksum(h); got != crc {
		return nil, fmt.Errorf("modelfile: %s: %w", path, &persist.ChecksumError{What: "header", Stored: crc, Computed: got})
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("modelfile: %s: %w: %s", path, ErrFormat, fmt.Sprintf(format, args...))
	}
	var hd header
	dec := json.NewDecoder(bytes.NewReader(h))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&hd); err != nil {
		return nil, bad("header: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("header: data after the JSON object")
	}
	if !hd.Precision.valid() {
		return nil, bad("header: precision %q, want fp32, fp16 or int8", hd.Precision)
	}
	f := &File{Version: Version, Precision: hd.Precision, Architecture: hd.Architecture, Tensors: hd.Tensors}
	if f.Architecture == nil {
		f.Architecture = json.RawMessage("null")
	}
	seen := make(map[string]bool, len(f.Tensors))
	end := prefixSize + int64(len(h))
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Name == "" {
			return nil, bad("tensor %d has no name", i)
		}
		if seen[t.Name] {
			return nil, bad("tensor %q appears twice", t.Name)
		}
		seen[t.Name] = true
		if t.Shape == nil {
			t.Shape = []int{}
		}
		n, ok := numValues(t.Shape)
		if !ok {
			return nil, bad("tensor %s: shape %v has a negative dimension or too many values", t.Name, t.Shape)
		}
		want, ok := dataLength(t.DType, t.Shape, n)
		if !ok {
			return nil, bad("tensor %s: dtype %q with shape %v, want float32, float16, or int8 of rank 2", t.Name, t.DType, t.Shape)
		}
		if !dtypeFits(hd.Precision, t.DType, t.Shape) {
			return nil, bad("tensor %s: dtype %s with shape %v in a %s file", t.Name, t.DType, t.Shape, hd.Precision)
		}
		if t.Length != want {
			return nil, bad("tensor %s: length %d bytes, shape %v of %s needs %d", t.Name, t.Length, t.Shape, t.DType, want)
		}
		if t.Offset%Align == 0 && t.Offset >= end && (t.Offset > size || t.Length > size-t.Offset) {
			return nil, fmt.Errorf("modelfile: %s: tensor %s: %d bytes at offset %d: %w", path, t.Name, t.Length, t.Offset,
				&persist.TruncatedError{What: "tensor " + t.Name, Offset: t.Offset, Need: t.Length, Left: max(0, size-t.Offset)})
		}
		if t.Offset%Align != 0 || t.Offset < end {
			return nil, bad("tensor %s: %d bytes at offset %d, want an offset that is a multiple of %d, at least %d (the end of what precedes it), with the data inside the file of %d bytes",
				t.Name, t.Length, t.Offset, Align, end, size)
		}
		end = t.Offset + t.Length
	}
	if end != size {
		return nil, bad("file size %d, the last tensor ends at %d", size, end)
	}
	return f, nil
}

// dtypeFits reports whether a writer of precision p stores a tensor of shape as dt.
func dtypeFits(p Precision, dt DType, shape []int) bool {
	switch p {
	case FP32:
		return dt == Float32
	case FP16:
		return dt == Float16
	}
	return dt == Int8 && isMatrix(shape) || dt == Float32 && !isMatrix(shape)
}

// checkTensor checks the padding before a tensor (zero) and its data (checksum).
func checkTensor(path string, t Info, pad, data []byte) error {
	for i, b := range pad {
		if b != 0 {
			return fmt.Errorf("modelfile: %s: %w: nonzero byte at %d in the padding before tensor %s", path, ErrFormat, t.Offset-int64(len(pad))+int64(i), t.Name)
		}
	}
	if got := persist.Checksum(data); got != t.CRC32C {
		return fmt.Errorf("modelfile: %s: %w", path, &persist.ChecksumError{What: "tensor " + t.Name, Stored: t.CRC32C, Computed: got})
	}
	if t.DType == Int8 {
		for c := range t.Shape[1] {
			if s := math.Float32frombits(binary.LittleEndian.Uint32(data[4*c:])); !(s >= 0 && s <= math.MaxFloat32) {
				return fmt.Errorf("modelfile: %s: %w: tensor %s: scale %d is %v, want finite and >= 0", path, ErrFormat, t.Name, c, s)
			}
		}
	}
	return nil
}

// decode converts a checked tensor's data to float32.
func decode(t Info, data []byte) []float32 {
	n := t.Len()
	out := make([]float32, n)
	switch t.DType {
	case Float32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case Float16:
		h := make([]uint16, min(n, 1<<14))
		for lo := 0; lo < n; lo += len(h) {
			chunk := h[:min(len(h), n-lo)]
			for i := range chunk {
				chunk[i] = binary.LittleEndian.Uint16(data[2*(lo+i):])
			}
			quant.FromFloat16(out[lo:], chunk)
		}
	case Int8:
		rows, cols := t.Shape[0], t.Shape[1]
		scales := make([]float32, cols)
		for c := range scales {
			scales[c] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*c:]))
		}
		quant.DequantizeInt8(out, int8s(data[4*cols:]), scales, rows, cols)
	}
	return out
}

// int8s returns b viewed as int8s.
func int8s(b []byte) []int8 {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(&b[0])), len(b))
}
