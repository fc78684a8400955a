package modelfile

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"

	"github.com/edsrzf/mmap-go"

	"github.com/gnnlab/gognn/internal/atomicfile"
	"github.com/gnnlab/gognn/internal/persist"
)

// Format constants of matrix files.
const (
	MatrixMagic   = "GOGNNMAT"
	MatrixVersion = 1
	matrixHeader  = 64 // bytes before the data, which therefore starts 64-byte aligned
	dtypeFloat32  = 1
)

// WriteMatrix writes a rows x cols float32 matrix to path, atomically, calling fill for each row
// in order to produce its values: fill(i, row) sets row (len cols, zeroed before each call) to
// row i. Only one row is held in memory, so the matrix can be far larger than RAM. An error
// from fill stops the write and is returned, and leaves an existing file at path as it was.
func WriteMatrix(path string, rows, cols int, fill func(i int, row []float32) error) error {
	if rows < 0 || cols < 0 {
		return fmt.Errorf("modelfile: write %s: shape (%d, %d) has a negative dimension", path, rows, cols)
	}
	if hi, lo := bits.Mul64(uint64(rows), uint64(cols)); hi != 0 || lo > math.MaxInt/4 {
		return fmt.Errorf("modelfile: write %s: shape (%d, %d) is too large", path, rows, cols)
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		var hdr [matrixHeader]byte
		copy(hdr[:], MatrixMagic)
		binary.LittleEndian.PutUint32(hdr[8:], MatrixVersion)
		binary.LittleEndian.PutUint32(hdr[12:], dtypeFloat32)
		binary.LittleEndian.PutUint64(hdr[16:], uint64(rows))
		binary.LittleEndian.PutUint64(hdr[24:], uint64(cols))
		binary.LittleEndian.PutUint32(hdr[32:], persist.Checksum(hdr[:32]))
		if _, err := w.Write(hdr[:]); err != nil {
			return fmt.Errorf("modelfile: write %s: %w", path, err)
		}
		row := make([]float32, cols)
		buf := make([]byte, 4*cols)
		for i := range rows {
			clear(row)
			if err := fill(i, row); err != nil {
				return err
			}
			for j, v := range row {
				binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
			}
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("modelfile: write %s: %w", path, err)
			}
		}
		return nil
	})
}

// Matrix is a float32 matrix file mapped read-only into memory: its pages are read from disk
// when first touched and can be dropped by the kernel under memory pressure, so the matrix may
// be larger than RAM. Its methods may be called concurrently; slices stay valid until Close,
// and writing to them faults.
type Matrix struct {
	rows, cols int
	data       []float32
	m          mmap.MMap
	mapped     bool // m is a mapping (else heap memory: see OpenMatrix)
}

// OpenMatrix maps the matrix file at path. It checks the header (magic, version, element type,
// checksum, shape against the file size) but not the data, which has no checksum: reading all
// of it on open would defeat mapping. Where the system cannot map files (GOOS=js, wasip1),
// OpenMatrix reads the file into memory instead, as Map does; OpenMatrixStrict refuses with the
// reason.
func OpenMatrix(path string) (*Matrix, error) { return openMatrix(path, false) }

// OpenMatrixStrict is OpenMatrix without the fallback to reading: mmap or an error with the
// reason.
func OpenMatrixStrict(path string) (*Matrix, error) { return openMatrix(path, true) }

func openMatrix(path string, strict bool) (*Matrix, error) {
	if !hostLittleEndian {
		return nil, fmt.Errorf("modelfile: %s: mapped matrices need a little-endian CPU", path)
	}
	data, mapped, size, err := mapFile(path, strict)
	if err != nil {
		return nil, err
	}
	rows, cols, err := checkMatrixHeader(path, data, size)
	if err != nil {
		if mapped {
			data.Unmap()
		}
		return nil, err
	}
	return &Matrix{rows: rows, cols: cols, data: float32s(data[matrixHeader:]), m: data, mapped: mapped}, nil
}

func checkMatrixHeader(path string, h []byte, size int64) (rows, cols int, err error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("modelfile: %s: %w: %s", path, ErrFormat, fmt.Sprintf(format, args...))
	}
	if err := persist.CheckMagic(h[:min(len(h), int(min(size, 8)))], "a matrix file", MatrixMagic); err != nil {
		return 0, 0, fmt.Errorf("modelfile: %s: %w", path, err)
	}
	if size < matrixHeader || len(h) < matrixHeader {
		return 0, 0, fmt.Errorf("modelfile: %s: %w", path, &persist.TruncatedError{What: "the matrix header", Need: matrixHeader, Left: size})
	}
	if err := persist.CheckVersion("a matrix file", binary.LittleEndian.Uint32(h[8:]), MatrixVersion); err != nil {
		return 0, 0, fmt.Errorf("modelfile: %s: %w", path, err)
	}
	if got, want := persist.Checksum(h[:32]), binary.LittleEndian.Uint32(h[32:]); got != want {
		return 0, 0, fmt.Errorf("modelfile: %s: %w", path, &persist.ChecksumError{What: "matrix header", Stored: want, Computed: got})
	}
	if dt := binary.LittleEndian.Uint32(h[12:]); dt != dtypeFloat32 {
		return 0, 0, bad("element type %d, want 1 (float32)", dt)
	}
	for i, b := range h[36:matrixHeader] {
		if b != 0 {
			return 0, 0, bad("nonzero reserved byte at %d", 36+i)
		}
	}
	r, c := binary.LittleEndian.Uint64(h[16:]), binary.LittleEndian.Uint64(h[24:])
	hi, n := bits.Mul64(r, c)
	if hi != 0 || r > math.MaxInt || c > math.MaxInt || n > (math.MaxInt64-matrixHeader)/4 || int64(n)*4+matrixHeader != size {
		return 0, 0, bad("shape (%d, %d) needs %d + 4*rows*cols bytes, the file has %d", r, c, matrixHeader, size)
	}
	return int(r), int(c), nil
}

// Rows returns the number of rows.
func (m *Matrix) Rows() int { return m.rows }

// Cols returns the number of columns.
func (m *Matrix) Cols() int { return m.cols }

// Row returns row i, a slice of the mapping. It panics if i is out of range.
func (m *Matrix) Row(i int) []float32 {
	if uint(i) >= uint(m.rows) {
		panic(fmt.Sprintf("modelfile: Matrix.Row(%d) out of range [0, %d)", i, m.rows))
	}
	return m.data[i*m.cols : (i+1)*m.cols : (i+1)*m.cols]
}

// Data returns the whole matrix, row-major, as one slice of the mapping: element (i, j) is
// Data()[i*Cols()+j].
func (m *Matrix) Data() []float32 { return m.data }

// Close unmaps the file. Slices returned by Row and Data must not be used afterwards.
func (m *Matrix) Close() error {
	m.data = nil
	if m.m == nil || !m.mapped {
		m.m = nil
		return nil
	}
	return m.m.Unmap()
}
