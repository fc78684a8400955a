package modelfile

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gnnlab/gognn/internal/persist"
)

// FuzzRead feeds the readers arbitrary bytes, starting from valid small files of every
// precision. Neither may panic, they must agree on whether a file is valid, and on a valid file
// Map must return the values Read does. The readers run on the bytes in memory (the file layer
// around them only opens, stats and maps), so the fuzzer gets many more executions.
func FuzzRead(f *testing.F) {
	small := []Tensor{
		{Name: "w", Shape: []int{3, 4}, Data: []float32{1, -2, 3, 0.5, 0, 0, 0, 0, 7, 8, -9, 1e-3}},
		{Name: "b", Shape: []int{4}, Data: []float32{0.1, 0.2, -0.3, 65504}},
		{Name: "s", Shape: []int{}, Data: []float32{2}},
		{Name: "e", Shape: []int{0, 2}},
	}
	dir := f.TempDir()
	for _, p := range []Precision{FP32, FP16, INT8} {
		path := filepath.Join(dir, string(p))
		if err := Write(path, map[string]int{"in": 3}, small, p); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte(Magic + "\x01\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > prefixSize && b[len(b)-1]&1 == 0 {
			// Make the header checksum right half of the time, so that mutations of the
			// header reach the checks behind it.
			if n := int(binary.LittleEndian.Uint32(b[12:])); n <= len(b)-prefixSize {
				b = append([]byte(nil), b...)
				binary.LittleEndian.PutUint32(b[16:], persist.Checksum(b[prefixSize:prefixSize+n]))
			}
		}
		file, vals, err := readFrom("fuzz", bytes.NewReader(b), int64(len(b)))
		m, merr := checkMapped("fuzz", b, int64(len(b)))
		if (err == nil) != (merr == nil) {
			t.Fatalf("Read: %v; Map: %v", err, merr)
		}
		if err != nil {
			if err.Error() != merr.Error() {
				t.Fatalf("Read and Map disagree: %v; %v", err, merr)
			}
			return
		}
		if len(vals) != len(file.Tensors) {
			t.Fatalf("%d values for %d tensors", len(vals), len(file.Tensors))
		}
		for _, ti := range file.Tensors {
			mv, err := m.Float32(ti.Name)
			if err != nil {
				t.Fatal(err)
			}
			if len(mv) != ti.Len() || !sameBits(mv, vals[ti.Name]) {
				t.Fatalf("tensor %s: Map gives %v, Read %v", ti.Name, mv, vals[ti.Name])
			}
		}
	})
}

// FuzzMatrixHeader checks that no header makes OpenMatrix's checks panic or accept a shape that
// does not match the file size.
func FuzzMatrixHeader(f *testing.F) {
	var h [matrixHeader]byte
	copy(h[:], MatrixMagic)
	binary.LittleEndian.PutUint32(h[8:], MatrixVersion)
	binary.LittleEndian.PutUint32(h[12:], dtypeFloat32)
	binary.LittleEndian.PutUint64(h[16:], 3)
	binary.LittleEndian.PutUint64(h[24:], 4)
	f.Add(h[:], int64(64+48))
	f.Fuzz(func(t *testing.T, b []byte, size int64) {
		if len(b) >= 36 && b[35]&1 == 0 {
			// Make the checksum right half of the time so the later checks are reached.
			b = append([]byte(nil), b...)
			binary.LittleEndian.PutUint32(b[32:], persist.Checksum(b[:32]))
		}
		rows, cols, err := checkMatrixHeader("fuzz", b, size)
		if err != nil {
			return
		}
		if rows < 0 || cols < 0 || int64(rows)*int64(cols) > math.MaxInt64/4 || 64+4*int64(rows)*int64(cols) != size {
			t.Fatalf("accepted shape (%d, %d) for a file of %d bytes", rows, cols, size)
		}
	})
}
