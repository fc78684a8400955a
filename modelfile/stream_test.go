package modelfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/edsrzf/mmap-go"
)

var streamTensors = []Tensor{
	{Name: "w", Shape: []int{3, 4}, Data: []float32{1, -2, 3, 0.5, 0, 0, 0, 0, 7, 8, -9, 1e-3}},
	{Name: "b", Shape: []int{4}, Data: []float32{0.1, 0.2, -0.3, 4}},
}

// TestWriteToMatchesWrite: the stream forms write and read the bytes of the file forms, with
// the same values.
func TestWriteToMatchesWrite(t *testing.T) {
	for _, p := range []Precision{FP32, FP16, INT8} {
		path := writeTest(t, p, streamTensors)
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteTo(&buf, arch{"gcn", 37, 13, 3}, streamTensors, p); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), file) {
			t.Fatalf("%s: WriteTo and Write produce different bytes", p)
		}
		f1, v1, err1 := Read(path)
		f2, v2, err2 := ReadFrom(bytes.NewReader(file))
		f3, v3, err3 := ReadFrom(io.MultiReader(bytes.NewReader(file))) // not a *bytes.Reader
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		if !reflect.DeepEqual(f1, f2) || !reflect.DeepEqual(f1, f3) || !reflect.DeepEqual(v1, v2) || !reflect.DeepEqual(v1, v3) {
			t.Fatalf("%s: Read and ReadFrom disagree", p)
		}
		m, err := MapBytes(file[:len(file):len(file)])
		if err != nil {
			t.Fatal(err)
		}
		for name, want := range v1 {
			got, err := m.Float32(name)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("%s: MapBytes tensor %s = %v, %v; want %v", p, name, got, err, want)
			}
		}
		if WriteTo(&buf, nil, []Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1}}}, p) == nil {
			t.Errorf("%s: WriteTo accepted a tensor whose data does not fill its shape", p)
		}
	}
}

// TestTypedErrors provokes each typed error through every reader.
func TestTypedErrors(t *testing.T) {
	good, err := os.ReadFile(writeTest(t, FP32, streamTensors))
	if err != nil {
		t.Fatal(err)
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)-3] ^= 1
	bumped := slices.Clone(good)
	binary.LittleEndian.PutUint32(bumped[8:], Version+1)
	magic := slices.Clone(good)
	magic[7] = 'X'
	for _, c := range []struct {
		name   string
		data   []byte
		target error
		as     func(error) bool
	}{
		{"truncated prefix", good[:15], ErrTruncated, func(err error) bool { var e *TruncatedError; return errors.As(err, &e) }},
		{"truncated header", good[:prefixSize+5], ErrTruncated, func(err error) bool { var e *TruncatedError; return errors.As(err, &e) }},
		{"truncated data", good[:len(good)-3], ErrTruncated, func(err error) bool { var e *TruncatedError; return errors.As(err, &e) && e.What == "tensor b" }},
		{"flipped byte", flipped, ErrChecksum, func(err error) bool {
			var e *ChecksumError
			return errors.As(err, &e) && e.What == "tensor b"
		}},
		{"version bumped", bumped, ErrVersion, func(err error) bool {
			var e *VersionError
			return errors.As(err, &e) && e.Found == Version+1 && slices.Equal(e.Supported, []uint32{Version}) && !errors.Is(err, ErrFormat)
		}},
		{"wrong magic", magic, ErrMagic, func(err error) bool { var e *MagicError; return errors.As(err, &e) && string(e.Found) == "GOGNNMDX" }},
	} {
		path := filepath.Join(t.TempDir(), "bad.gnn")
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, rerr := Read(path)
		_, _, serr := ReadFrom(bytes.NewReader(c.data))
		_, merr := Map(path)
		_, berr := MapBytes(c.data)
		for i, err := range []error{rerr, serr, merr, berr} {
			if !errors.Is(err, c.target) || !c.as(err) {
				t.Errorf("%s: reader %d: error %v, want %v", c.name, i, err, c.target)
			}
		}
	}
}

// TestMapFallback: where mmap is unsupported, Map and OpenMatrix read the file instead, and
// the strict forms report why.
func TestMapFallback(t *testing.T) {
	path := writeTest(t, FP32, streamTensors)
	mpath := filepath.Join(t.TempDir(), "m.mat")
	if err := WriteMatrix(mpath, 3, 2, func(i int, row []float32) error { row[0], row[1] = float32(i), -1; return nil }); err != nil {
		t.Fatal(err)
	}
	mapped, err := Map(path)
	if err != nil {
		t.Fatal(err)
	}
	defer mapped.Close()
	old := mmapFile
	mmapFile = func(*os.File, int, int) (mmap.MMap, error) { return nil, syscall.ENOTSUP }
	defer func() { mmapFile = old }()

	m, err := Map(path)
	if err != nil {
		t.Fatalf("Map without mmap: %v", err)
	}
	if m.IsMapped() || !mapped.IsMapped() {
		t.Errorf("IsMapped: %v with mmap unavailable, %v with it", m.IsMapped(), mapped.IsMapped())
	}
	for _, tn := range streamTensors {
		a, _ := m.Float32(tn.Name)
		b, _ := mapped.Float32(tn.Name)
		if !slices.Equal(a, b) {
			t.Errorf("tensor %s read %v, mapped %v", tn.Name, a, b)
		}
	}
	m.Close()
	if _, err := MapStrict(path); err == nil || !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "unavailable") {
		t.Errorf("MapStrict without mmap: %v, want the reason", err)
	}
	mat, err := OpenMatrix(mpath)
	if err != nil {
		t.Fatalf("OpenMatrix without mmap: %v", err)
	}
	if got := mat.Row(2); got[0] != 2 || got[1] != -1 || mat.Release() != nil {
		t.Errorf("row 2 = %v", got)
	}
	mat.Close()
	if _, err := OpenMatrixStrict(mpath); err == nil || !strings.Contains(err.Error(), "unavailable") {
		t.Errorf("OpenMatrixStrict without mmap: %v, want the reason", err)
	}
	// Another mmap failure is not hidden by the fallback.
	mmapFile = func(*os.File, int, int) (mmap.MMap, error) { return nil, syscall.ENOMEM }
	if _, err := Map(path); !errors.Is(err, syscall.ENOMEM) {
		t.Errorf("Map with mmap failing: %v, want the failure", err)
	}
}
