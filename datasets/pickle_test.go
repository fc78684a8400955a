package datasets

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestUnpickleCora reads each real Cora pickle into the expected Go stand-in.
func TestUnpickleCora(t *testing.T) {
	dir := filepath.Join(sharedData(t), "planetoid")
	read := func(s string) any {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "ind.cora."+s))
		if err != nil {
			t.Fatal(err)
		}
		v, err := unpickle(b)
		if err != nil {
			t.Fatalf("ind.cora.%s: %v", s, err)
		}
		return v
	}
	for s, rows := range map[string]int{"x": 140, "tx": 1000, "allx": 1708} {
		m, ok := read(s).(*csrMatrix)
		if !ok {
			t.Fatalf("ind.cora.%s is not a csr_matrix", s)
		}
		sp, err := m.sparse()
		if err != nil {
			t.Fatal(err)
		}
		if sp.Rows != rows || sp.Cols != 1433 {
			t.Errorf("ind.cora.%s: %d x %d, want %d x 1433", s, sp.Rows, sp.Cols, rows)
		}
	}
	for s, rows := range map[string]int{"y": 140, "ty": 1000, "ally": 1708} {
		a, ok := read(s).(*ndarray)
		if !ok {
			t.Fatalf("ind.cora.%s is not an ndarray", s)
		}
		if !slices.Equal(a.shape, []int{rows, 7}) || a.dt.String() != "int32" || a.fortran {
			t.Errorf("ind.cora.%s: shape %v, %s, fortran %t; want [%d 7] int32 C order", s, a.shape, a.dt, a.fortran, rows)
		}
	}
	keys, lists, err := adjacency(read("graph"))
	if err != nil {
		t.Fatal(err)
	}
	entries := 0
	for _, l := range lists {
		entries += len(l)
	}
	if len(keys) != 2708 || entries != 10858 {
		t.Errorf("ind.cora.graph: %d keys and %d list entries, want 2708 and 10858", len(keys), entries)
	}
}

// TestHostilePickles feeds pickles that would run code in Python: each is refused before
// anything is built, with an error naming the global or opcode.
func TestHostilePickles(t *testing.T) {
	cases := []struct {
		name, pickle, want string
	}{
		{"os.system", "cos\nsystem\n(S'echo owned'\ntR.", `global "os.system" is not allowed`},
		{"posix.system", "\x80\x02cposix\nsystem\nq\x00U\necho ownedq\x01\x85q\x02Rq\x03.", `global "posix.system" is not allowed`},
		{"builtins.eval", "\x80\x02cbuiltins\neval\nq\x00X\x03\x00\x00\x001+1\x85R.", `global "builtins.eval" is not allowed`},
		{"__builtin__.eval", "c__builtin__\neval\n(S'1'\ntR.", `global "__builtin__.eval" is not allowed`},
		{"copy_reg._reconstructor", "\x80\x02ccopy_reg\n_reconstructor\n.", `global "copy_reg._reconstructor" is not allowed`},
		{"collections.OrderedDict", "\x80\x02ccollections\nOrderedDict\n)R.", `global "collections.OrderedDict" is not allowed`},
		{"__builtin__.object", "\x80\x02c__builtin__\nobject\n.", `global "__builtin__.object" is not allowed`},
		{"a global after harmless data", "\x80\x02]q\x00(K\x01K\x02ecsubprocess\ncall\n.", `global "subprocess.call" is not allowed`},
		{"STACK_GLOBAL", "\x80\x02X\x02\x00\x00\x00osX\x06\x00\x00\x00system\x93.", "unsupported opcode 0x93"},
		{"protocol 4", "\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00.", "pickle protocol 4"},
		{"INST", "(S'ls'\nios\nsystem\n.", "opcode INST is not allowed"},
		{"OBJ", "(]S'ls'\no.", "opcode OBJ is not allowed"},
		{"EXT1", "\x80\x02\x82\x01.", "opcode EXT1 is not allowed"},
		{"PERSID", "Pfile\n.", "opcode PERSID is not allowed"},
		{"BINPERSID", "K\x01Q.", "opcode BINPERSID is not allowed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := unpickle([]byte(c.pickle))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("unpickle = %v, %v; want an error saying %q", v, err, c.want)
			}
		})
	}
}

// TestAllowList checks that the opcode check and gopickle's FindClass hook agree on exactly the
// six globals of the Planetoid files.
func TestAllowList(t *testing.T) {
	if len(allowedGlobals) != 6 {
		t.Errorf("%d allowed globals, want the 6 the Planetoid files name", len(allowedGlobals))
	}
	for g := range allowedGlobals {
		i := strings.LastIndexByte(g, '.')
		if _, err := findClass(g[:i], g[i+1:]); err != nil {
			t.Errorf("findClass(%s): %v", g, err)
		}
	}
	for _, g := range [][2]string{{"os", "system"}, {"posix", "system"}, {"builtins", "eval"}, {"numpy", "load"}, {"scipy.sparse.csr", "csr_matrix "}, {"numpy.core.multiarray", "scalar"}} {
		if _, err := findClass(g[0], g[1]); err == nil || !strings.Contains(err.Error(), g[0]+"."+g[1]) {
			t.Errorf("findClass(%s, %s) = %v, want an error naming it", g[0], g[1], err)
		}
	}
}

// TestMalformedPickles covers inputs that are not valid pickles, including every input known to
// make gopickle v0.2.0 panic: each must give an ordinary error.
func TestMalformedPickles(t *testing.T) {
	cases := []struct {
		name, pickle, want string
	}{
		{"empty", "", "empty file"},
		{"opcode 0xff", "\xff", "unsupported opcode 0xff"},
		{"no STOP", "\x80\x02N", "without STOP"},
		{"trailing bytes", "N.N", "1 bytes after STOP"},
		{"STOP inside MARK", "(N.", "STOP inside an open MARK"},
		{"empty LONG1", "\x80\x02\x8a\x00.", "0-byte integer"},
		{"long LONG4", "\x80\x02\x8b\x09\x00\x00\x00123456789.", "9-byte integer"},
		{"long text INT", "I" + strings.Repeat("9", 100) + "\n.", "longer than 64 bytes"},
		{"odd SETITEMS", "}(K\x01u.", "odd number of items"},
		{"odd DICT", "(K\x01d.", "odd number of items"},
		{"APPENDS without list", "(K\x01e.", "no list or dict below the MARK"},
		{"huge BINSTRING", "T\xff\xff\xff\x7f", "truncated (needs 2147483647 bytes"},
		{"negative BINSTRING", "T\xff\xff\xff\xff", "negative length"},
		{"huge BINUNICODE", "X\xff\xff\xff\xff", "truncated"},
		{"huge BINBYTES", "B\xff\xff\xff\xff", "truncated"},
		{"short SHORT_BINSTRING", "U\x05ab", "truncated"},
		{"unterminated GLOBAL", "cnumpy\ndtype", "no end of line"},
		{"FRAME", "\x95\xff\xff\xff\xff\xff\xff\xff\x7f", "unsupported opcode 0x95"},
		{"undefined memo", "\x80\x02h\x05.", "memo entry 5 was never stored"},
		{"PUT on empty stack", "q\x00N.", "BINPUT: needs 1 stack items"},
		{"POP on empty stack", "0N.", "POP on an empty stack"},
		{"REDUCE underflow", "NR.", "REDUCE: needs 2"},
		{"TUPLE without MARK", "Nt.", "TUPLE without a MARK"},
		{"deep MARKs", strings.Repeat("(", 100) + "N.", "MARK nested more than 64 deep"},
		{"REDUCE on non-callable", "NN\x85R.", "REDUCE requires a Callable"},
		{"APPEND to non-list", "NNa.", "APPEND requires"},
		{"BUILD on a dict", "}}b.", "BUILD requires"},
		{"protocol 5", "\x80\x05N.", "pickle protocol 5"},
		{"bad GET", "gx\n.", "bad memo index"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := unpickle([]byte(c.pickle))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("unpickle = %v, %v; want an error saying %q", v, err, c.want)
			}
			if errors.Is(err, errPicklePanic) {
				t.Fatalf("gopickle panicked: %v", err)
			}
		})
	}
}

// TestTruncated cuts pickles of the real format at many points: every prefix must be refused.
func TestTruncated(t *testing.T) {
	inputs := map[string][]byte{
		"csr":    csrPickle(2, 3, []int32{0, 2, 3}, []int32{0, 2, 1}, []float32{1, 1, 1}),
		"labels": onehotPickle([]int{0, 2, 1}, 3, "f8"),
		"graph":  graphPickle([]int{0, 1, 2}, [][]int{{1, 2}, {0}, {}}),
	}
	if root, err := findSharedData(); err == nil {
		for _, s := range []string{"y", "x", "graph"} {
			b, err := os.ReadFile(filepath.Join(root, "planetoid", "ind.cora."+s))
			if err != nil {
				t.Fatal(err)
			}
			inputs["cora."+s] = b
		}
	}
	for name, b := range inputs {
		step := 1
		if len(b) > 2000 {
			step = 97
		}
		for cut := 0; cut < len(b); cut++ {
			if cut > 600 && cut%step != 0 {
				continue
			}
			if _, err := unpickle(b[:cut]); err == nil || errors.Is(err, errPicklePanic) {
				t.Fatalf("%s cut at %d of %d: err = %v, want an ordinary error", name, cut, len(b), err)
			}
		}
		if _, err := unpickle(b); err != nil {
			t.Fatalf("%s whole: %v", name, err)
		}
	}
}

// arrayPickle writes one numpy array with the given dtype state fields.
func arrayPickle(shape []int, code, order string, fortran bool, raw []byte) []byte {
	w := newPickle()
	w.ndarray(shape, code, order[0], fortran, raw)
	w.op('.')
	return w.bytes()
}

func TestNumpyArrays(t *testing.T) {
	be := func(vs ...float64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	i64 := func(vs ...int64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
		return b
	}
	native := "<"
	if nativeOrder() == '>' {
		native = ">"
	}
	ok := []struct {
		name    string
		pickle  []byte
		floats  []float64
		integer bool
	}{
		{"float64 big endian", arrayPickle([]int{2, 2}, "f8", ">", false, be(1.5, -2, 3, 1e300)), []float64{1.5, -2, 3, 1e300}, false},
		// Column-major [[1 2 3] [4 5 6]] is stored 1 4 2 5 3 6.
		{"int32 fortran order", arrayPickle([]int{2, 3}, "i4", "<", true, le32s([]int32{1, 4, 2, 5, 3, 6})), []float64{1, 2, 3, 4, 5, 6}, true},
		{"int64", arrayPickle([]int{3}, "i8", "<", false, i64(-1, 1<<40, 7)), []float64{-1, 1 << 40, 7}, true},
		{"uint8", arrayPickle([]int{3}, "u1", "|", false, []byte{0, 200, 255}), []float64{0, 200, 255}, true},
		{"bool", arrayPickle([]int{3}, "b1", "|", false, []byte{0, 1, 1}), []float64{0, 1, 1}, true},
		{"float32 native order", arrayPickle([]int{1}, "f4", "=", false, binary.NativeEndian.AppendUint32(nil, math.Float32bits(0.25))), []float64{0.25}, false},
		{"empty", arrayPickle([]int{0, 7}, "f8", native, false, nil), []float64{}, false},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			v, err := unpickle(c.pickle)
			if err != nil {
				t.Fatal(err)
			}
			a := v.(*ndarray)
			if got := a.float64s(); !slices.Equal(got, c.floats) {
				t.Errorf("float64s = %v, want %v", got, c.floats)
			}
			ints, err := a.int64s()
			if c.integer != (err == nil) {
				t.Fatalf("int64s error %v, integer dtype %t", err, c.integer)
			}
			for i, x := range ints {
				if float64(x) != c.floats[i] {
					t.Errorf("int64s[%d] = %d, want %v", i, x, c.floats[i])
				}
			}
		})
	}

	bad := []struct {
		name   string
		pickle []byte
		want   string
	}{
		{"too few bytes", arrayPickle([]int{2, 2}, "f8", "<", false, make([]byte, 24)), "needs 4 elements of 8 bytes, data has 24"},
		{"too many bytes", arrayPickle([]int{3}, "i4", "<", false, make([]byte, 16)), "data has 16 bytes"},
		{"complex", arrayPickle([]int{1}, "c16", "<", false, make([]byte, 16)), `numpy dtype "c16" is not supported`},
		{"object", arrayPickle([]int{1}, "O", "|", false, nil), `numpy dtype "O" is not supported`},
		{"int16", arrayPickle([]int{1}, "i2", "<", false, make([]byte, 2)), `"i2" is not supported`},
		{"no byte order", arrayPickle([]int{1}, "f8", "|", false, make([]byte, 8)), "8-byte type without a byte order"},
		{"odd byte order", arrayPickle([]int{1}, "f8", "!", false, make([]byte, 8)), "unknown byte order"},
		{"rank 3", arrayPickle([]int{1, 1, 1}, "u1", "|", false, []byte{1}), "rank 3"},
		{"overflowing shape", arrayPickle([]int{1 << 30, 1 << 30}, "f8", "<", false, nil), "needs 1152921504606846976 elements"},
		{"huge shape", arrayPickle([]int{math.MaxInt32, math.MaxInt32}, "f8", "<", false, nil), "data has 0 bytes"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			v, err := unpickle(c.pickle)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("unpickle = %v, %v; want an error saying %q", v, err, c.want)
			}
		})
	}
}

// goArray makes a 1-D int32 or float32 ndarray directly, for CSR validation tests.
func goArray[T int32 | float32](v []T) *ndarray {
	switch x := any(v).(type) {
	case []int32:
		return &ndarray{shape: []int{len(v)}, dt: dtype{'i', 4, '<'}, raw: le32s(x)}
	case []float32:
		return &ndarray{shape: []int{len(v)}, dt: dtype{'f', 4, '<'}, raw: le32f(x)}
	}
	return nil
}

func TestCSR(t *testing.T) {
	// Row 0 holds columns 2, 0, 2 (unsorted, with a duplicate): scipy's todense sums them.
	m := &csrMatrix{rows: 3, cols: 4, hasShape: true, format: "csr",
		indptr: goArray([]int32{0, 3, 3, 5}), indices: goArray([]int32{2, 0, 2, 3, 1}), value: goArray([]float32{1, 2, 3, 4, 5})}
	s, err := m.sparse()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []float32{2, 0, 4, 0, 0, 0, 0, 0, 0, 5, 0, 4}
	if got := s.Dense(); !slices.Equal(got, want) {
		t.Errorf("Dense = %v, want %v", got, want)
	}
	if !slices.Equal(s.RowPtr, []int{0, 2, 2, 4}) || s.NNZ() != 4 {
		t.Errorf("RowPtr %v, NNZ %d; want [0 2 2 4], 4", s.RowPtr, s.NNZ())
	}

	bad := []struct {
		name string
		edit func(m *csrMatrix)
		want string
	}{
		{"no shape", func(m *csrMatrix) { m.hasShape = false }, "no _shape"},
		{"format", func(m *csrMatrix) { m.format = "csc" }, "format \"csc\""},
		{"no data", func(m *csrMatrix) { m.value = nil }, "lacks one of"},
		{"indptr length", func(m *csrMatrix) { m.indptr = goArray([]int32{0, 3, 5}) }, "indptr has 3 entries, want rows+1 = 4"},
		{"indptr decreasing", func(m *csrMatrix) { m.indptr = goArray([]int32{0, 4, 3, 5}) }, "indptr decreases at row 1"},
		{"indptr start", func(m *csrMatrix) { m.indptr = goArray([]int32{1, 3, 3, 5}) }, "indptr runs from 1"},
		{"column range", func(m *csrMatrix) { m.indices = goArray([]int32{2, 0, 2, 4, 1}) }, "column index 4 out of range"},
		{"negative column", func(m *csrMatrix) { m.indices = goArray([]int32{2, 0, -1, 3, 1}) }, "column index -1"},
		{"value count", func(m *csrMatrix) { m.value = goArray([]float32{1, 2}) }, "5 indices but 2 values"},
		{"float indices", func(m *csrMatrix) { m.indices = goArray([]float32{2, 0, 2, 3, 1}) }, "want an integer array"},
		{"NaN", func(m *csrMatrix) { m.value = goArray([]float32{1, float32(math.NaN()), 3, 4, 5}) }, "not a finite float32"},
		{"overflowing sum", func(m *csrMatrix) { m.value = goArray([]float32{math.MaxFloat32, 2, math.MaxFloat32, 4, 5}) }, "want a finite number"},
		{"rank", func(m *csrMatrix) {
			m.indices = &ndarray{shape: []int{5, 1}, dt: dtype{'i', 4, '<'}, raw: le32s([]int32{2, 0, 2, 3, 1})}
		}, "rank 2"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			m := &csrMatrix{rows: 3, cols: 4, hasShape: true, format: "csr",
				indptr: goArray([]int32{0, 3, 3, 5}), indices: goArray([]int32{2, 0, 2, 3, 1}), value: goArray([]float32{1, 2, 3, 4, 5})}
			c.edit(m)
			if _, err := m.sparse(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("sparse() error %v, want %q", err, c.want)
			}
		})
	}
}

func TestSparseMatrix(t *testing.T) {
	m := &SparseMatrix{Rows: 3, Cols: 3, RowPtr: []int{0, 2, 2, 3}, ColIdx: []int32{0, 2, 1}, Values: []float32{1, 3, 2}}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := m.Dense(), []float32{1, 0, 3, 0, 0, 0, 0, 2, 0}; !slices.Equal(got, want) {
		t.Errorf("Dense = %v, want %v", got, want)
	}
	if got, want := m.DenseF64(), []float64{1, 0, 3, 0, 0, 0, 0, 2, 0}; !slices.Equal(got, want) {
		t.Errorf("DenseF64 = %v, want %v", got, want)
	}
	n := m.RowNormalized()
	if got, want := n.Dense(), []float32{0.25, 0, 0.75, 0, 0, 0, 0, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("RowNormalized = %v, want %v", got, want)
	}
	if m.Values[0] != 1 {
		t.Error("RowNormalized modified its receiver")
	}
	for name, bad := range map[string]*SparseMatrix{
		"row pointers": {Rows: 2, Cols: 3, RowPtr: []int{0, 1}, ColIdx: []int32{0}, Values: []float32{1}},
		"unsorted":     {Rows: 1, Cols: 3, RowPtr: []int{0, 2}, ColIdx: []int32{2, 1}, Values: []float32{1, 1}},
		"duplicate":    {Rows: 1, Cols: 3, RowPtr: []int{0, 2}, ColIdx: []int32{1, 1}, Values: []float32{1, 1}},
		"range":        {Rows: 1, Cols: 3, RowPtr: []int{0, 1}, ColIdx: []int32{3}, Values: []float32{1}},
		"infinite":     {Rows: 1, Cols: 3, RowPtr: []int{0, 1}, ColIdx: []int32{0}, Values: []float32{float32(math.Inf(1))}},
		"values":       {Rows: 1, Cols: 3, RowPtr: []int{0, 1}, ColIdx: []int32{0}, Values: nil},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%s: Validate accepted an invalid matrix", name)
		}
	}
}

// FuzzPickle runs the pickle reader and the converters the loader applies on arbitrary input.
// They must return an error or a value, never panic, and never reach the recover that guards
// gopickle (errPicklePanic): the opcode check has to reject what gopickle cannot handle.
//
//	go test -run '^$' -fuzz FuzzPickle ./datasets
func FuzzPickle(f *testing.F) {
	f.Add(csrPickle(2, 3, []int32{0, 2, 3}, []int32{0, 2, 1}, []float32{1, 1, 1}))
	f.Add(onehotPickle([]int{0, 2, 1}, 3, "i4"))
	f.Add(onehotPickle([]int{1, -1}, 2, "f8"))
	f.Add(graphPickle([]int{0, 1, 2}, [][]int{{1, 2}, {0}, {}}))
	f.Add(arrayPickle([]int{2, 3}, "i4", "<", true, le32s([]int32{1, 4, 2, 5, 3, 6})))
	f.Add(arrayPickle([]int{2}, "f8", ">", false, make([]byte, 16)))
	f.Add([]byte("cos\nsystem\n(S'echo owned'\ntR."))
	f.Add([]byte("(lp0\nI1\naI2\na(dp1\nS'k'\np2\nL5L\nsF1.5\n."))
	f.Add([]byte("\x80\x02}q\x00(K\x01]q\x01(K\x02K\x03eK\x02h\x01u."))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := unpickle(data)
		if errors.Is(err, errPicklePanic) {
			t.Fatalf("gopickle panicked on an input the opcode check accepted: %v", err)
		}
		if err != nil {
			return
		}
		switch x := v.(type) {
		case *csrMatrix:
			if s, err := x.sparse(); err == nil {
				if err := s.Validate(); err != nil {
					t.Fatalf("sparse() returned an invalid matrix: %v", err)
				}
				s.RowNormalized()
			}
		case *ndarray:
			if x.raw != nil {
				if n := len(x.float64s()); n != x.len() {
					t.Fatalf("float64s returned %d elements for shape %v", n, x.shape)
				}
				x.int64s()
			}
		default:
			adjacency(v)
		}
		// A pickle ends at its only STOP, so no strict prefix of a valid one is valid.
		if _, err := unpickle(data[:len(data)-1]); err == nil {
			t.Fatalf("a strict prefix of a valid pickle was accepted")
		}
	})
}
