package vecio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	f := []float32{1, -2.5, float32(math.Inf(1)), 0, 3, 4}
	if err := WriteFvecs(filepath.Join(dir, "a.fvecs"), f, 3); err != nil {
		t.Fatal(err)
	}
	got, n, dim, err := ReadFvecs(filepath.Join(dir, "a.fvecs"))
	if err != nil || n != 2 || dim != 3 || !slices.Equal(got, f) {
		t.Fatalf("fvecs: %v %d %d %v", got, n, dim, err)
	}
	iv := []int32{7, -1, math.MaxInt32, math.MinInt32}
	if err := WriteIvecs(filepath.Join(dir, "a.ivecs"), iv, 1); err != nil {
		t.Fatal(err)
	}
	gi, n, dim, err := ReadIvecs(filepath.Join(dir, "a.ivecs"))
	if err != nil || n != 4 || dim != 1 || !slices.Equal(gi, iv) {
		t.Fatalf("ivecs: %v %d %d %v", gi, n, dim, err)
	}
	bv := []uint8{0, 255, 17, 3}
	if err := WriteBvecs(filepath.Join(dir, "a.bvecs"), bv, 4); err != nil {
		t.Fatal(err)
	}
	gb, n, dim, err := ReadBvecs(filepath.Join(dir, "a.bvecs"))
	if err != nil || n != 1 || dim != 4 || !slices.Equal(gb, bv) {
		t.Fatalf("bvecs: %v %d %d %v", gb, n, dim, err)
	}
	// Exact bytes of the format: int32 dim, then the elements, little endian.
	raw, _ := os.ReadFile(filepath.Join(dir, "a.bvecs"))
	if want := []byte{4, 0, 0, 0, 0, 255, 17, 3}; !bytes.Equal(raw, want) {
		t.Errorf("bvecs bytes %v, want %v", raw, want)
	}
	// Empty data writes an empty file, which reads back as no vectors.
	if err := WriteFvecs(filepath.Join(dir, "e.fvecs"), nil, 8); err != nil {
		t.Fatal(err)
	}
	if got, n, dim, err := ReadFvecs(filepath.Join(dir, "e.fvecs")); err != nil || n != 0 || dim != 0 || len(got) != 0 {
		t.Fatalf("empty: %v %d %d %v", got, n, dim, err)
	}
	// A large file crosses the writer's batches and the reader's buffer.
	big := Clustered(3000, 37, 5, 1, 1)
	if err := WriteFvecs(filepath.Join(dir, "big.fvecs"), big, 37); err != nil {
		t.Fatal(err)
	}
	if got, n, dim, err := ReadFvecs(filepath.Join(dir, "big.fvecs")); err != nil || n != 3000 || dim != 37 || !slices.Equal(got, big) {
		t.Fatalf("big: n %d dim %d err %v equal %t", n, dim, err, slices.Equal(got, big))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		t.Errorf("%d files in the directory, want 5 (no temporary files left)", len(entries))
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.fvecs")
	for _, c := range []struct {
		data []float32
		dim  int
		want string
	}{
		{[]float32{1, 2, 3}, 2, "whole number"},
		{[]float32{1}, 0, "dim = 0"},
		{[]float32{1}, -1, "dim = -1"},
		{nil, MaxDim + 1, "dim ="},
	} {
		if err := WriteFvecs(p, c.data, c.dim); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("WriteFvecs(%v, %d): %v, want %q", c.data, c.dim, err, c.want)
		}
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Error("a failed write created the file")
	}
	if err := WriteFvecs(filepath.Join(dir, "missing", "x.fvecs"), []float32{1}, 1); err == nil {
		t.Error("write into a missing directory: no error")
	}
	// A failed write leaves an existing file untouched.
	if err := WriteIvecs(p, []int32{1, 2}, 2); err != nil {
		t.Fatal(err)
	}
	werr := errors.New("boom")
	if err := WriteAtomic(p, func(w io.Writer) error { w.Write([]byte("junk")); return werr }); !errors.Is(err, werr) {
		t.Fatalf("WriteAtomic error %v", err)
	}
	if got, _, _, err := ReadIvecs(p); err != nil || !slices.Equal(got, []int32{1, 2}) {
		t.Errorf("file after failed write: %v, %v", got, err)
	}
}

func rec(dim int32, elems ...byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(dim))
	return append(b, elems...)
}

func TestCorrupt(t *testing.T) {
	f1 := []byte{0, 0, 128, 63} // 1.0
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"zero dim", rec(0), "dimension 0"},
		{"negative dim", rec(-5, f1...), "dimension -5"},
		{"absurd dim", rec(1<<30, f1...), "dimension 1073741824"},
		{"dim change", cat(rec(1, f1...), rec(2, cat(f1, f1)...)), "record 1 at byte 8: dimension 2, earlier records have 1"},
		{"truncated data", cat(rec(2, f1...)), "truncated, 4 of 8"},
		{"truncated header", cat(rec(1, f1...), []byte{1, 0}), "truncated dimension field"},
		{"huge dim claim, short file", rec(MaxDim, f1...), "truncated"},
	} {
		_, _, _, err := Decode[float32](bytes.NewReader(c.data), int64(len(c.data)))
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrFormat containing %q", c.name, err, c.want)
		}
		p := filepath.Join(t.TempDir(), "c.fvecs")
		os.WriteFile(p, c.data, 0o644)
		if _, _, _, err := ReadFvecs(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: ReadFvecs error %v should name the file", c.name, err)
		}
	}
	if _, _, _, err := ReadFvecs(filepath.Join(t.TempDir(), "missing.fvecs")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestReader(t *testing.T) {
	data := []int32{1, 2, 3, 4, 5, 6}
	var buf bytes.Buffer
	if err := Encode(&buf, data, 2); err != nil {
		t.Fatal(err)
	}
	buf.Write([]byte{9}) // a trailing partial record
	r := NewReader[int32](&buf)
	var got []int32
	for {
		v, err := r.Next()
		if err == io.EOF {
			t.Fatal("trailing byte not reported")
		}
		if err != nil {
			if !errors.Is(err, ErrFormat) || r.Count() != 3 || r.Dim() != 2 {
				t.Fatalf("err %v after %d records of dim %d", err, r.Count(), r.Dim())
			}
			if _, err2 := r.Next(); err2 != err {
				t.Error("the error is not sticky")
			}
			break
		}
		got = append(got, v...)
	}
	if !slices.Equal(got, data) {
		t.Errorf("read %v, want %v", got, data)
	}
}

// fuzzDecode checks the decoder of T on arbitrary bytes: no panic, and on success the output is
// consistent and encodes back to the same bytes.
func fuzzDecode[T Elem](t *testing.T, b []byte) {
	data, n, dim, err := Decode[T](bytes.NewReader(b), int64(len(b)))
	if err != nil {
		if !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v does not wrap ErrFormat", err)
		}
		return
	}
	if len(data) != n*dim || (n > 0) != (len(b) > 0) {
		t.Fatalf("%d elements for n=%d dim=%d from %d bytes", len(data), n, dim, len(b))
	}
	if n == 0 {
		return
	}
	var out bytes.Buffer
	if err := Encode(&out, data, dim); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), b) {
		// float32 NaN payloads survive math.Float32frombits/bits, so the bytes must match.
		t.Fatalf("re-encoding changed the bytes")
	}
}

func seeds(f *testing.F, elem int) {
	e := bytes.Repeat([]byte{1}, elem)
	f.Add([]byte{})
	f.Add(rec(1, e...))
	f.Add(bytes.Join([][]byte{rec(2, e...), e, rec(2, e...), e}, nil))
	f.Add(bytes.Join([][]byte{rec(2, e...), e, rec(3, e...)}, nil))
	f.Add(rec(-1))
	f.Add(rec(MaxDim, e...))
	f.Add([]byte{1, 0, 0})
}

func FuzzReadFvecs(f *testing.F) {
	seeds(f, 4)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzDecode[float32](t, b)
		// The file path too: it sizes its allocation from the file length.
		p := filepath.Join(dir, "f.fvecs")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if data, n, dim, err := ReadFvecs(p); err == nil && len(data) != n*dim {
			t.Fatalf("ReadFvecs: %d elements for %d x %d", len(data), n, dim)
		}
	})
}

func FuzzReadIvecs(f *testing.F) {
	seeds(f, 4)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzDecode[int32](t, b)
		p := filepath.Join(dir, "f.ivecs")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if data, n, dim, err := ReadIvecs(p); err == nil && len(data) != n*dim {
			t.Fatalf("ReadIvecs: %d elements for %d x %d", len(data), n, dim)
		}
	})
}

func FuzzReadBvecs(f *testing.F) {
	seeds(f, 1)
	f.Fuzz(func(t *testing.T, b []byte) { fuzzDecode[uint8](t, b) })
}
