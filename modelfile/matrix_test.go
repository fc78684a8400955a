package modelfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/gnnlab/gognn/ops/asm"
)

func rowValue(i, j int) float32 { return float32(i)*1000 + float32(j) }

func writeMatrix(t *testing.T, rows, cols int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.mat")
	err := WriteMatrix(path, rows, cols, func(i int, row []float32) error {
		for j := range row {
			if row[j] != 0 {
				return errors.New("row not zeroed")
			}
			row[j] = rowValue(i, j)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMatrix(t *testing.T) {
	for _, sh := range [][2]int{{0, 0}, {0, 5}, {5, 0}, {1, 1}, {37, 13}, {300, 128}} {
		rows, cols := sh[0], sh[1]
		path := writeMatrix(t, rows, cols)
		if st, _ := os.Stat(path); st.Size() != int64(64+4*rows*cols) {
			t.Errorf("%dx%d: file of %d bytes, want %d", rows, cols, st.Size(), 64+4*rows*cols)
		}
		m, err := OpenMatrix(path)
		if err != nil {
			t.Fatal(err)
		}
		if m.Rows() != rows || m.Cols() != cols || len(m.Data()) != rows*cols {
			t.Fatalf("%dx%d: opened as %dx%d with %d values", rows, cols, m.Rows(), m.Cols(), len(m.Data()))
		}
		for i := range rows {
			r := m.Row(i)
			if len(r) != cols || cap(r) != cols {
				t.Fatalf("Row(%d) has len %d cap %d, want %d", i, len(r), cap(r), cols)
			}
			for j, v := range r {
				if v != rowValue(i, j) || m.Data()[i*cols+j] != v {
					t.Fatalf("(%d, %d) = %g, want %g", i, j, v, rowValue(i, j))
				}
			}
		}
		if rows*cols > 0 {
			// Zero copy: the data is the mapping, past the 64-byte header, aligned.
			lo := uintptr(unsafe.Pointer(&m.m[0]))
			if p := uintptr(unsafe.Pointer(&m.Data()[0])); p != lo+64 || p%64 != 0 {
				t.Errorf("Data() at %#x, mapping at %#x", p, lo)
			}
			// The gather kernels run on it directly.
			y := make([]float32, cols)
			asm.GatherSumF32(y, m.Data(), cols, []int32{0, int32(rows - 1), 0}, nil)
			if want := 2*rowValue(0, cols-1) + rowValue(rows-1, cols-1); y[cols-1] != want {
				t.Errorf("gather over the mapping: %g, want %g", y[cols-1], want)
			}
		}
		if err := m.Release(); err != nil {
			t.Fatal(err)
		}
		if rows > 0 && cols > 0 && m.Row(rows - 1)[cols-1] != rowValue(rows-1, cols-1) {
			t.Error("value changed after Release")
		}
		mustPanic(t, func() { m.Row(rows) })
		mustPanic(t, func() { m.Row(-1) })
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	}
}

func mustPanic(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	f()
}

func TestMatrixChecks(t *testing.T) {
	path := writeMatrix(t, 3, 4)
	good, _ := os.ReadFile(path)
	bad := filepath.Join(t.TempDir(), "bad.mat")
	// Every header byte is checked: the first 36 by the checksum, the rest must be zero.
	for i := range 64 {
		b := append([]byte(nil), good...)
		b[i] ^= 0x21
		os.WriteFile(bad, b, 0o644)
		m, err := OpenMatrix(bad)
		if err == nil {
			m.Close()
			t.Fatalf("header byte %d flipped: no error", i)
		}
		if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrVersion) {
			t.Errorf("header byte %d flipped: %v wraps no sentinel", i, err)
		}
	}
	for _, n := range []int{0, 10, 63, 64, len(good) - 1} {
		os.WriteFile(bad, good[:n], 0o644)
		if _, err := OpenMatrix(bad); err == nil || !errors.Is(err, ErrFormat) {
			t.Errorf("truncated to %d bytes: error %v", n, err)
		}
	}
	os.WriteFile(bad, append(good, 1, 2, 3, 4), 0o644)
	if _, err := OpenMatrix(bad); err == nil || !strings.Contains(err.Error(), "shape (3, 4)") {
		t.Errorf("extra row: error %v", err)
	}
	if _, err := OpenMatrix(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: no error")
	}
	// A model file is not a matrix file.
	if _, err := OpenMatrix(writeTest(t, FP32, testTensors(1))); err == nil || !strings.Contains(err.Error(), "not a matrix file") {
		t.Errorf("model file opened as a matrix: %v", err)
	}
}

func TestWriteMatrixErrors(t *testing.T) {
	path := writeMatrix(t, 3, 4)
	old, _ := os.ReadFile(path)
	boom := errors.New("boom")
	err := WriteMatrix(path, 1000, 4, func(i int, row []float32) error {
		if i == 500 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if now, _ := os.ReadFile(path); string(now) != string(old) {
		t.Error("a failed WriteMatrix changed the old file")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	for _, sh := range [][2]int{{-1, 2}, {2, -1}, {1 << 40, 1 << 40}} {
		if err := WriteMatrix(path, sh[0], sh[1], nil); err == nil {
			t.Errorf("shape %v: no error", sh)
		}
	}
}
