package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/gnnlab/gognn/internal/persist"
	"github.com/gnnlab/gognn/quant"
)

type arch struct {
	Model   string `json:"model"`
	In      int    `json:"in"`
	Hidden  int    `json:"hidden"`
	Classes int    `json:"classes"`
}

// testTensors covers every kind of tensor: matrices, vectors of both orientations, a scalar,
// an empty tensor and a rank-3 tensor.
func testTensors(seed uint64) []Tensor {
	rng := rand.New(rand.NewPCG(seed, 99))
	mk := func(name string, shape ...int) Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		t := Tensor{Name: name, Shape: shape, Data: make([]float32, n)}
		for i := range t.Data {
			t.Data[i] = float32(rng.NormFloat64() * 0.3)
		}
		return t
	}
	ts := []Tensor{
		mk("conv1.lin.weight", 37, 13),
		mk("conv1.bias", 13),
		mk("conv1.att_src", 13, 1),
		mk("row", 1, 5),
		mk("scale"),
		mk("empty", 0, 4),
		mk("heads", 2, 3, 4),
		mk("conv2.lin.weight", 13, 3),
	}
	// A zero column and a column with an outlier.
	for r := range 37 {
		ts[0].Data[r*13+4] = 0
	}
	ts[0].Data[5*13+7] = 25
	return ts
}

func writeTest(t *testing.T, p Precision, ts []Tensor) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.gnn")
	if err := Write(path, arch{"gcn", 37, 13, 3}, ts, p); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRoundTrip(t *testing.T) {
	for _, p := range []Precision{FP32, FP16, INT8} {
		t.Run(string(p), func(t *testing.T) {
			ts := testTensors(1)
			path := writeTest(t, p, ts)
			f, vals, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			var a arch
			if err := json.Unmarshal(f.Architecture, &a); err != nil || a != (arch{"gcn", 37, 13, 3}) {
				t.Errorf("architecture %s (%v), want the one written", f.Architecture, err)
			}
			if f.Precision != p || f.Version != Version || len(f.Tensors) != len(ts) || len(vals) != len(ts) {
				t.Fatalf("file %+v with %d values, want precision %s and %d tensors", f, len(vals), p, len(ts))
			}
			m, err := Map(path)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			for i, want := range ts {
				info := f.Tensors[i]
				if info.Name != want.Name || !reflect.DeepEqual(info.Shape, append([]int{}, want.Shape...)) {
					t.Errorf("tensor %d is %s %v, want %s %v", i, info.Name, info.Shape, want.Name, want.Shape)
				}
				if info.Offset%Align != 0 {
					t.Errorf("%s at offset %d", info.Name, info.Offset)
				}
				got := vals[want.Name]
				checkValues(t, p, info, want, got)
				mv, err := m.Float32(want.Name)
				if err != nil {
					t.Fatal(err)
				}
				if !sameBits(mv, got) {
					t.Errorf("%s: Map gives %v, Read %v", want.Name, mv, got)
				}
				if info.DType == Float32 && len(mv) > 0 {
					// No copy: the slice lies inside the mapping, 64-byte aligned.
					lo := uintptr(unsafe.Pointer(&m.data[0]))
					ptr := uintptr(unsafe.Pointer(&mv[0]))
					if ptr < lo || ptr+uintptr(4*len(mv)) > lo+uintptr(len(m.data)) || ptr%Align != 0 {
						t.Errorf("%s: fp32 view at %#x is not an aligned slice of the mapping [%#x, +%d)", want.Name, ptr, lo, len(m.data))
					}
				}
			}
			if _, err := m.Float32("nope"); err == nil || !strings.Contains(err.Error(), "nope") {
				t.Errorf("missing tensor: %v", err)
			}
		})
	}
}

// checkValues checks what a precision promises: fp32 exact, fp16 the correctly rounded half,
// int8 within scale/2 for matrices and exact otherwise.
func checkValues(t *testing.T, p Precision, info Info, want Tensor, got []float32) {
	t.Helper()
	if len(got) != len(want.Data) {
		t.Fatalf("%s: %d values, want %d", want.Name, len(got), len(want.Data))
	}
	switch info.DType {
	case Float32:
		if !sameBits(got, want.Data) {
			t.Errorf("%s: float32 values changed", want.Name)
		}
	case Float16:
		h := make([]uint16, len(want.Data))
		quant.ToFloat16(h, want.Data)
		exp := make([]float32, len(h))
		quant.FromFloat16(exp, h)
		for i, v := range want.Data {
			if got[i] != exp[i] || math.Abs(float64(got[i]-v)) > math.Abs(float64(v))*0x1p-11+0x1p-25 {
				t.Errorf("%s[%d] = %g, want %g (the half nearest %g)", want.Name, i, got[i], exp[i], v)
			}
		}
	case Int8:
		rows, cols := want.Shape[0], want.Shape[1]
		for c := range cols {
			var m float64
			for r := range rows {
				m = max(m, math.Abs(float64(want.Data[r*cols+c])))
			}
			s := float64(float32(m / 127))
			for r := range rows {
				if e := math.Abs(float64(got[r*cols+c]) - float64(want.Data[r*cols+c])); e > s/2*(1+1e-6) {
					t.Errorf("%s[%d,%d] = %g, want %g within scale/2 = %g", want.Name, r, c, got[r*cols+c], want.Data[r*cols+c], s/2)
				}
			}
		}
	default:
		t.Errorf("%s: dtype %q", want.Name, info.DType)
	}
	wantDT := map[Precision]DType{FP32: Float32, FP16: Float16, INT8: Float32}[p]
	if p == INT8 && isMatrix(want.Shape) {
		wantDT = Int8
	}
	if info.DType != wantDT {
		t.Errorf("%s %v stored as %s in %s, want %s", want.Name, want.Shape, info.DType, p, wantDT)
	}
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestSpecialValues(t *testing.T) {
	nan := math.Float32frombits(0x7fc01234)
	data := []float32{nan, float32(math.Inf(-1)), float32(math.Copysign(0, -1)), math.MaxFloat32, 0x1p-149, 65504}
	ts := []Tensor{{Name: "v", Shape: []int{6}, Data: data}}
	_, vals, err := Read(writeTest(t, FP32, ts))
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(vals["v"], data) {
		t.Errorf("fp32 %v, want %v bit for bit", vals["v"], data)
	}
	ts[0].Data = []float32{nan, float32(math.Inf(-1)), float32(math.Copysign(0, -1)), 0x1p-24, 65504}
	ts[0].Shape = []int{5}
	_, vals, err = Read(writeTest(t, FP16, ts))
	if err != nil {
		t.Fatal(err)
	}
	v := vals["v"]
	if !math.IsNaN(float64(v[0])) || !math.IsInf(float64(v[1]), -1) || math.Float32bits(v[2]) != 0x80000000 || v[3] != 0x1p-24 || v[4] != 65504 {
		t.Errorf("fp16 special values came back as %v", v)
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	ok := Tensor{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}
	tests := []struct {
		name    string
		arch    any
		tensors []Tensor
		p       Precision
		want    string
	}{
		{"precision", nil, []Tensor{ok}, "bf16", `precision "bf16"`},
		{"no name", nil, []Tensor{{Shape: []int{1}, Data: []float32{1}}}, FP32, "tensor 0 has no name"},
		{"duplicate", nil, []Tensor{ok, ok}, FP32, "two tensors are called w"},
		{"length", nil, []Tensor{{Name: "b", Shape: []int{3}, Data: []float32{1}}}, FP32, "tensor b: shape [3] holds 3 values, Data has 1"},
		{"negative", nil, []Tensor{{Name: "b", Shape: []int{-1}}}, FP32, "tensor b: shape [-1]"},
		{"overflow", nil, []Tensor{{Name: "b", Shape: []int{1 << 40, 1 << 40}}}, FP32, "tensor b: shape"},
		{"fp16 range", nil, []Tensor{{Name: "big", Shape: []int{2}, Data: []float32{1, 7e4}}}, FP16, "tensor big: value 70000 at index 1 is beyond the float16 range"},
		{"int8 NaN", nil, []Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1, float32(math.NaN()), 0, 0}}}, INT8, "tensor w: value NaN at index 1"},
		{"architecture", make(chan int), []Tensor{ok}, FP32, "architecture"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		err := Write(path, tt.arch, tt.tensors, tt.p)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s: a file was written", tt.name)
		}
	}
	// NaN in a vector is fine in int8: vectors stay float32.
	if err := Write(filepath.Join(dir, "v"), nil, []Tensor{{Name: "b", Shape: []int{1}, Data: []float32{float32(math.NaN())}}}, INT8); err != nil {
		t.Error(err)
	}
}

type failingWriter struct {
	w    io.Writer
	left int
}

var errDiskFull = errors.New("disk full")

func (f *failingWriter) Write(b []byte) (int, error) {
	if len(b) > f.left {
		n, _ := f.w.Write(b[:f.left])
		f.left = 0
		return n, errDiskFull
	}
	f.left -= len(b)
	return f.w.Write(b)
}

func TestWriteIsAtomic(t *testing.T) {
	path := writeTest(t, FP32, testTensors(1))
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, after := range []int{0, 10, 100, 1000} {
		wrapWriter = func(w io.Writer) io.Writer { return &failingWriter{w: w, left: after} }
		err := Write(path, "new", testTensors(2), FP16)
		wrapWriter = func(w io.Writer) io.Writer { return w }
		if !errors.Is(err, errDiskFull) {
			t.Fatalf("failing after %d bytes: error %v, want disk full", after, err)
		}
		now, _ := os.ReadFile(path)
		if string(now) != string(old) {
			t.Fatalf("failing after %d bytes changed the old file", after)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if _, _, err := Read(path); err != nil {
		t.Error(err)
	}
}

// TestEveryByteChecked flips each byte of small files in turn: Read and Map must both fail and
// say where.
func TestEveryByteChecked(t *testing.T) {
	for _, p := range []Precision{FP32, FP16, INT8} {
		path := writeTest(t, p, testTensors(3))
		good, _ := os.ReadFile(path)
		f, _, err := Read(path)
		if err != nil {
			t.Fatal(err)
		}
		hlen := int(binary.LittleEndian.Uint32(good[12:]))
		bad := filepath.Join(t.TempDir(), "bad.gnn")
		b := make([]byte, len(good))
		for i := range good {
			// Read and Map on the bytes themselves: a file per byte would be slow.
			copy(b, good)
			b[i] ^= 0x5a
			_, _, rerr := readFrom("bad.gnn", bytes.NewReader(b), int64(len(b)))
			_, merr := checkMapped("bad.gnn", b, int64(len(b)))
			if i%97 == 0 { // and through the files now and then
				os.WriteFile(bad, b, 0o644)
				_, _, err := Read(bad)
				m, merr := Map(bad)
				if m != nil {
					m.Close()
				}
				if err == nil || merr == nil || err.Error() != strings.Replace(rerr.Error(), "bad.gnn", bad, 1) {
					t.Fatalf("%s: byte %d flipped: from a file %v, %v; from memory %v", p, i, err, merr, rerr)
				}
			}
			for _, err := range []error{rerr, merr} {
				if err == nil {
					t.Fatalf("%s: byte %d flipped: no error", p, i)
				}
				if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrVersion) {
					t.Fatalf("%s: byte %d flipped: %v wraps none of the sentinels", p, i, err)
				}
				var want string
				switch {
				case i < 8:
					want = "magic"
				case i < 12:
					want = "version"
				case i < 16:
					want = "header length"
				case i < prefixSize+hlen:
					want = "header: checksum mismatch"
				default:
					for _, ti := range f.Tensors {
						if int64(i) < ti.Offset {
							want = "padding before tensor " + ti.Name
							break
						}
						if int64(i) < ti.Offset+ti.Length {
							want = "tensor " + ti.Name + ": checksum mismatch"
							break
						}
					}
				}
				if i >= 12 && i < 20 {
					want = "header" // its length or its checksum
				}
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("%s: byte %d flipped: error %q does not say %q", p, i, err, want)
				}
			}
		}
		for _, n := range []int{0, 7, 19, prefixSize + hlen - 1, len(good) - 1} {
			if err := os.WriteFile(bad, good[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			if _, _, err := Read(bad); err == nil {
				t.Errorf("%s: truncated to %d bytes: no error", p, n)
			}
			if _, err := Map(bad); err == nil {
				t.Errorf("%s: truncated to %d bytes: Map gave no error", p, n)
			}
		}
		os.WriteFile(bad, append(good, 0), 0o644)
		if _, _, err := Read(bad); err == nil || !strings.Contains(err.Error(), "file size") {
			t.Errorf("%s: a byte appended: error %v", p, err)
		}
	}
}

// craftBase is where craft puts the data.
const craftBase = 512

// craft writes a file with the given header and data bytes and correct checksums.
func craft(t *testing.T, version uint32, hdr header, data []byte) string {
	t.Helper()
	h, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	return craftRaw(t, version, h, data)
}

func craftRaw(t *testing.T, version uint32, h, data []byte) string {
	t.Helper()
	b := []byte(Magic)
	b = binary.LittleEndian.AppendUint32(b, version)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(h)))
	b = binary.LittleEndian.AppendUint32(b, persist.Checksum(h))
	b = append(b, h...)
	if data != nil {
		if len(b) > craftBase {
			t.Fatalf("header of %d bytes does not fit before %d", len(h), craftBase)
		}
		b = append(b, make([]byte, craftBase-len(b))...)
		b = append(b, data...)
	}
	path := filepath.Join(t.TempDir(), "crafted.gnn")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHeaderChecks hands the readers files whose checksums are right but whose header is not.
func TestHeaderChecks(t *testing.T) {
	data := make([]byte, 64)
	crc := func(b []byte) uint32 { return persist.Checksum(b) }
	ti := func(name string, dt DType, shape []int, off, length int64, d []byte) Info {
		return Info{Name: name, DType: dt, Shape: shape, Offset: craftBase + off, Length: length, CRC32C: crc(d)}
	}
	nanScale := binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(math.NaN())))
	nanScale = append(nanScale, nanScale...)
	nanScale = append(nanScale, make([]byte, 4)...)
	tests := []struct {
		name    string
		hdr     header
		data    []byte
		want    string
		wantErr error
	}{
		{"precision", header{Precision: "fp8"}, nil, `precision "fp8"`, ErrFormat},
		{"dtype", header{Precision: FP32, Tensors: []Info{ti("a", "bfloat16", []int{2}, 0, 4, data[:4])}}, data[:4], `tensor a: dtype "bfloat16"`, ErrFormat},
		{"length", header{Precision: FP32, Tensors: []Info{ti("a", Float32, []int{2}, 0, 4, data[:4])}}, data[:4], "tensor a: length 4 bytes, shape [2] of float32 needs 8", ErrFormat},
		{"shape overflow", header{Precision: FP32, Tensors: []Info{ti("a", Float32, []int{1 << 31, 1 << 31, 1 << 31}, 0, 0, nil)}}, nil, "tensor a: shape", ErrFormat},
		{"negative shape", header{Precision: FP32, Tensors: []Info{ti("a", Float32, []int{-2, -2}, 0, 16, data[:16])}}, data[:16], "tensor a: shape [-2 -2]", ErrFormat},
		{"misaligned", header{Precision: FP32, Tensors: []Info{ti("a", Float32, []int{1}, 4, 4, data[:4])}}, data[:8], "tensor a: 4 bytes at offset 516", ErrFormat},
		{"inside header", header{Precision: FP32, Tensors: []Info{ti("a", Float32, []int{1}, -craftBase, 4, data[:4])}}, data[:4], "tensor a: 4 bytes at offset 0,", ErrFormat},
		{"past the end", header{Precision: FP32, Tensors: []Info{ti("a", Float32, []int{16}, 0, 64, data)}}, data[:32], "tensor a: 64 bytes at offset 512", ErrFormat},
		{"overlap", header{Precision: FP32, Tensors: []Info{ti("a", Float32, []int{16}, 0, 64, data), ti("b", Float32, []int{1}, 0, 4, data[:4])}}, data, "tensor b: 4 bytes at offset 512", ErrFormat},
		{"duplicate", header{Precision: FP32, Tensors: []Info{ti("a", Float32, []int{1}, 0, 4, data[:4]), ti("a", Float32, []int{1}, 64, 4, data[:4])}}, data[:4], "tensor \"a\" appears twice", ErrFormat},
		{"no name", header{Precision: FP32, Tensors: []Info{ti("", Float32, []int{1}, 0, 4, data[:4])}}, data[:4], "tensor 0 has no name", ErrFormat},
		{"int8 rank", header{Precision: INT8, Tensors: []Info{ti("a", Int8, []int{2, 2, 2}, 0, 8, data[:8])}}, data[:8], "tensor a: dtype \"int8\" with shape [2 2 2]", ErrFormat},
		{"int8 vector", header{Precision: INT8, Tensors: []Info{ti("a", Int8, []int{1, 4}, 0, 20, data[:20])}}, data[:20], "tensor a: dtype int8 with shape [1 4] in a int8 file", ErrFormat},
		{"mixed", header{Precision: FP16, Tensors: []Info{ti("a", Float32, []int{1}, 0, 4, data[:4])}}, data[:4], "tensor a: dtype float32 with shape [1] in a fp16 file", ErrFormat},
		{"NaN scale", header{Precision: INT8, Tensors: []Info{ti("a", Int8, []int{2, 2}, 0, 12, nanScale)}}, nanScale, "tensor a: scale 0 is NaN", ErrFormat},
		{"bad padding", header{Precision: FP32, Tensors: []Info{ti("a", Float32, []int{1}, 64, 4, data[:4])}}, append(append(make([]byte, 63), 1), data[:4]...), "nonzero byte at 575 in the padding before tensor a", ErrFormat},
		{"bad checksum", header{Precision: FP32, Tensors: []Info{{Name: "a", DType: Float32, Shape: []int{1}, Offset: craftBase, Length: 4, CRC32C: 7}}}, data[:4], "tensor a: checksum mismatch", ErrChecksum},
		{"trailing bytes", header{Precision: FP32}, data[:1], "file size", ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := craft(t, Version, tt.hdr, tt.data)
			_, _, err := Read(path)
			_, merr := Map(path)
			for _, err := range []error{err, merr} {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v, want %v containing %q", err, tt.wantErr, tt.want)
				}
			}
		})
	}
	for name, h := range map[string]string{
		"unknown field": `{"precision":"fp32","tensors":[],"extra":1}`,
		"trailing JSON": `{"precision":"fp32"} {}`,
		"not JSON":      `{"precision":`,
		"shape type":    `{"precision":"fp32","tensors":[{"name":"a","dtype":"float32","shape":[1e30]}]}`,
	} {
		path := craftRaw(t, Version, []byte(h), nil)
		if _, _, err := Read(path); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "header") {
			t.Errorf("%s: error %v, want a header error", name, err)
		}
	}
	path := craft(t, 2, header{Precision: FP32}, nil)
	for _, err := range []error{first(Read(path)), second(Map(path))} {
		if !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "version 2") {
			t.Errorf("version 2: error %v, want ErrVersion naming it", err)
		}
	}
	// A file with no tensors and null architecture is valid.
	path = craft(t, Version, header{Precision: FP32}, nil)
	if f, vals, err := Read(path); err != nil || len(vals) != 0 || string(f.Architecture) != "null" {
		t.Errorf("empty file: %v %v %v", f, vals, err)
	}
}

func first[A, B any](_ A, _ B, err error) error { return err }
func second[A any](_ A, err error) error        { return err }

func TestMappedViews(t *testing.T) {
	ts := testTensors(4)
	path := writeTest(t, INT8, ts)
	m, err := Map(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	q, scales, err := m.Int8("conv1.lin.weight")
	if err != nil {
		t.Fatal(err)
	}
	wq, ws := quant.QuantizeInt8(ts[0].Data, 37, 13)
	if !reflect.DeepEqual(q, wq) || !reflect.DeepEqual(scales, ws) {
		t.Error("mapped int8 codes or scales differ from QuantizeInt8's")
	}
	if _, _, err := m.Int8("conv1.bias"); err == nil {
		t.Error("Int8 of a float32 tensor: no error")
	}
	if _, err := m.Float16("conv1.bias"); err == nil {
		t.Error("Float16 of a float32 tensor: no error")
	}
	x := make([]float32, 2*37)
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	y := make([]float32, 2*13)
	quant.MatMulInt8(x, 2, 37, q, scales, 13, y) // runs on the mapping
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	m16, err := Map(writeTest(t, FP16, ts))
	if err != nil {
		t.Fatal(err)
	}
	defer m16.Close()
	h, err := m16.Float16("conv1.bias")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]uint16, len(ts[1].Data))
	quant.ToFloat16(want, ts[1].Data)
	if !reflect.DeepEqual(h, want) {
		t.Errorf("Float16 = %v, want %v", h, want)
	}
}
