package vecio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/gnnlab/gognn/internal/atomicfile"
)

// Elem is an element type of a TEXMEX file: float32 (.fvecs), int32 (.ivecs) or uint8 (.bvecs).
type Elem interface{ float32 | int32 | uint8 }

// MaxDim is the largest dimension accepted in a file (2^20); larger values are taken as a sign of
// a corrupt or misidentified file.
const MaxDim = 1 << 20

// ErrFormat is wrapped by every error about a malformed file.
var ErrFormat = errors.New("malformed vector file")

// format returns the file extension naming T's format and the size of an element.
func format[T Elem]() (string, int) {
	var z T
	switch any(z).(type) {
	case float32:
		return "fvecs", 4
	case int32:
		return "ivecs", 4
	default:
		return "bvecs", 1
	}
}

// Reader streams the records of an .fvecs (T = float32), .ivecs (int32) or .bvecs (uint8) stream.
type Reader[T Elem] struct {
	r    *bufio.Reader
	name string
	size int   // bytes per element
	dim  int   // 0 until the first record is read
	n    int   // records read
	off  int64 // byte offset of the next record
	buf  []byte
	vec  []T
	err  error
}

// NewReader returns a Reader of the records in r.
func NewReader[T Elem](r io.Reader) *Reader[T] {
	name, size := format[T]()
	return &Reader[T]{r: bufio.NewReaderSize(r, 1<<16), name: name, size: size}
}

// Dim returns the dimension of the records, 0 before the first one is read.
func (r *Reader[T]) Dim() int { return r.dim }

// Count returns the number of records read so far.
func (r *Reader[T]) Count() int { return r.n }

// Next returns the next vector. The slice is reused by the following call; copy it to keep it.
// At the end of the stream Next returns io.EOF; a malformed record gives an error wrapping
// ErrFormat, and every later call returns the same error.
func (r *Reader[T]) Next() ([]T, error) {
	if r.err != nil {
		return nil, r.err
	}
	v, err := r.next()
	if err != nil {
		r.err = err
	}
	return v, err
}

func (r *Reader[T]) next() ([]T, error) {
	var hdr [4]byte
	k, err := io.ReadFull(r.r, hdr[:])
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("%w: %s record %d at byte %d: truncated dimension field (%d of 4 bytes)", ErrFormat, r.name, r.n, r.off, k)
		}
		return nil, fmt.Errorf("%s record %d at byte %d: %w", r.name, r.n, r.off, err)
	}
	d := int64(int32(binary.LittleEndian.Uint32(hdr[:])))
	if d <= 0 || d > MaxDim {
		return nil, fmt.Errorf("%w: %s record %d at byte %d: dimension %d, want 1 <= dim <= %d (is this a .%s file?)", ErrFormat, r.name, r.n, r.off, d, MaxDim, r.name)
	}
	if r.dim == 0 {
		r.dim = int(d)
	} else if int(d) != r.dim {
		return nil, fmt.Errorf("%w: %s record %d at byte %d: dimension %d, earlier records have %d", ErrFormat, r.name, r.n, r.off, d, r.dim)
	}
	nb := r.dim * r.size
	// Grow the buffer as the bytes arrive (at most doubling), so a short stream claiming a huge
	// dimension costs memory in proportion to its length, not to the claim.
	r.buf = r.buf[:0]
	for len(r.buf) < nb {
		chunk := min(nb-len(r.buf), max(len(r.buf), 1<<16))
		r.buf = slices.Grow(r.buf, chunk)
		k, err = io.ReadFull(r.r, r.buf[len(r.buf):len(r.buf)+chunk])
		r.buf = r.buf[:len(r.buf)+k]
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("%w: %s record %d at byte %d: truncated, %d of %d data bytes", ErrFormat, r.name, r.n, r.off, len(r.buf), nb)
			}
			return nil, fmt.Errorf("%s record %d at byte %d: %w", r.name, r.n, r.off, err)
		}
	}
	if cap(r.vec) < r.dim {
		r.vec = make([]T, r.dim)
	}
	r.vec = r.vec[:r.dim]
	decodeElems(r.vec, r.buf)
	r.n++
	r.off += 4 + int64(nb)
	return r.vec, nil
}

// decodeElems converts little-endian bytes to elements.
func decodeElems[T Elem](dst []T, b []byte) {
	switch d := any(dst).(type) {
	case []float32:
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case []int32:
		for i := range d {
			d[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case []uint8:
		copy(d, b)
	}
}

// appendElems appends the little-endian bytes of src to b.
func appendElems[T Elem](b []byte, src []T) []byte {
	switch s := any(src).(type) {
	case []float32:
		for _, x := range s {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		}
	case []int32:
		for _, x := range s {
			b = binary.LittleEndian.AppendUint32(b, uint32(x))
		}
	case []uint8:
		b = append(b, s...)
	}
	return b
}

// Decode reads all records of r into one flat slice. sizeHint, when > 0, is the stream's length
// in bytes and lets Decode allocate once. An empty stream gives n = dim = 0 and no error.
func Decode[T Elem](r io.Reader, sizeHint int64) (data []T, n, dim int, err error) {
	data, n, dim, err = decode[T](r, sizeHint)
	if err != nil {
		err = fmt.Errorf("vecio: %w", err)
	}
	return data, n, dim, err
}

func decode[T Elem](r io.Reader, sizeHint int64) (data []T, n, dim int, err error) {
	rd := NewReader[T](r)
	for {
		v, err := rd.Next()
		if err == io.EOF {
			return data, rd.n, rd.dim, nil
		}
		if err != nil {
			return nil, 0, 0, err
		}
		if data == nil && sizeHint > 0 {
			rec := int64(4 + rd.dim*rd.size)
			data = make([]T, 0, (sizeHint/rec)*int64(rd.dim))
		}
		data = append(data, v...)
	}
}

// checkShape reports whether n elements form whole vectors of a valid dimension dim.
func checkShape(name string, n, dim int) error {
	if dim <= 0 || dim > MaxDim {
		return fmt.Errorf("vecio: write %s: dim = %d, want 1 <= dim <= %d", name, dim, MaxDim)
	}
	if n%dim != 0 {
		return fmt.Errorf("vecio: write %s: %d elements is not a whole number of %d-dimensional vectors", name, n, dim)
	}
	return nil
}

// Encode writes data, a flat slice of vectors of dimension dim, as records to w.
func Encode[T Elem](w io.Writer, data []T, dim int) error {
	name, size := format[T]()
	if err := checkShape(name, len(data), dim); err != nil {
		return err
	}
	perBatch := max(1, (1<<16)/(4+dim*size))
	b := make([]byte, 0, perBatch*(4+dim*size))
	for i := 0; i < len(data); i += dim {
		b = binary.LittleEndian.AppendUint32(b, uint32(dim))
		b = appendElems(b, data[i:i+dim])
		if len(b)+4+dim*size > cap(b) || i+dim == len(data) {
			if _, err := w.Write(b); err != nil {
				return fmt.Errorf("vecio: write %s: %w", name, err)
			}
			b = b[:0]
		}
	}
	return nil
}

// readFile decodes the file at path.
func readFile[T Elem](path string) ([]T, int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("vecio: %w", err)
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	data, n, dim, err := decode[T](f, size)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("vecio: %s: %w", path, err)
	}
	return data, n, dim, nil
}

// ReadFvecs reads an .fvecs file: n vectors of dimension dim, vector i at data[i*dim:(i+1)*dim].
func ReadFvecs(path string) (data []float32, n, dim int, err error) { return readFile[float32](path) }

// ReadIvecs reads an .ivecs file (ground-truth neighbour lists, one row per query).
func ReadIvecs(path string) (data []int32, n, dim int, err error) { return readFile[int32](path) }

// ReadBvecs reads a .bvecs file.
func ReadBvecs(path string) (data []uint8, n, dim int, err error) { return readFile[uint8](path) }

// WriteFvecs writes data (vectors of dimension dim, row-major) to path as .fvecs, atomically.
func WriteFvecs(path string, data []float32, dim int) error { return writeFile(path, data, dim) }

// WriteIvecs writes data to path as .ivecs, atomically.
func WriteIvecs(path string, data []int32, dim int) error { return writeFile(path, data, dim) }

// WriteBvecs writes data to path as .bvecs, atomically.
func WriteBvecs(path string, data []uint8, dim int) error { return writeFile(path, data, dim) }

func writeFile[T Elem](path string, data []T, dim int) error {
	name, _ := format[T]()
	if err := checkShape(name, len(data), dim); err != nil {
		return err
	}
	return WriteAtomic(path, func(w io.Writer) error { return Encode(w, data, dim) })
}

// WriteAtomic creates path with the bytes write produces, atomically: they go to a temporary
// file in the same directory, which is synced and renamed over path only when write succeeded.
// On error path is untouched and the temporary file removed.
func WriteAtomic(path string, write func(w io.Writer) error) error {
	return atomicfile.Write(path, 0o644, write)
}
