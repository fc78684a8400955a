package datasets

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/nlpodyssey/gopickle/types"
)

// This file holds the Go side of the allowed Python globals: what gopickle builds when a
// Planetoid pickle calls numpy.core.multiarray._reconstruct, numpy.dtype, scipy's csr_matrix or
// collections.defaultdict, and the conversions from those objects to Go slices. Every method
// called by gopickle validates its arguments and returns an error rather than panic.

// findClass is gopickle's FindClass hook: it maps each allowed global to its Go stand-in and
// refuses everything else, naming it. checkPickle has already refused other GLOBALs; this is the
// second, independent check.
func findClass(module, name string) (any, error) {
	switch module + "." + name {
	case "numpy.core.multiarray._reconstruct":
		return reconstructFunc{}, nil
	case "numpy.ndarray":
		return ndarrayClass, nil
	case "numpy.dtype":
		return dtypeClass{}, nil
	case "scipy.sparse.csr.csr_matrix":
		return csrClass{}, nil
	case "collections.defaultdict":
		return defaultdictClass{}, nil
	case "__builtin__.list":
		return listClass, nil
	}
	return nil, fmt.Errorf("global %s is not allowed in a Planetoid file", strconv.Quote(module+"."+name))
}

// pyClass stands for a class that is only passed as an argument (numpy.ndarray to _reconstruct,
// list to defaultdict); it cannot be called or instantiated.
type pyClass struct{ name string }

var (
	ndarrayClass = &pyClass{"numpy.ndarray"}
	listClass    = &pyClass{"__builtin__.list"}
)

// reconstructFunc is numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), 'b'): it makes an
// empty array whose contents a BUILD then sets.
type reconstructFunc struct{}

func (reconstructFunc) Call(args ...any) (any, error) {
	if len(args) != 3 || args[0] != ndarrayClass {
		return nil, fmt.Errorf("numpy _reconstruct: want (numpy.ndarray, (0,), 'b'), got %d arguments", len(args))
	}
	if t, ok := args[1].(*types.Tuple); !ok || t.Len() != 1 || t.Get(0) != 0 {
		return nil, fmt.Errorf("numpy _reconstruct: want shape (0,)")
	}
	if s, ok := args[2].(string); !ok || s != "b" {
		return nil, fmt.Errorf("numpy _reconstruct: want dtype 'b'")
	}
	return &ndarray{}, nil
}

// dtype is a numpy scalar type: kind 'f' (float), 'i' (signed int), 'u' (unsigned int) or 'b'
// (bool), size in bytes, and byte order '<' (little endian), '>' (big endian) or '|' (not
// applicable, one-byte types).
type dtype struct {
	kind  byte
	size  int
	order byte // 0 until the dtype's state is set
}

func (d dtype) String() string {
	names := map[string]string{"f4": "float32", "f8": "float64", "i4": "int32", "i8": "int64", "u1": "uint8", "b1": "bool"}
	return names[string(d.kind)+strconv.Itoa(d.size)]
}

// dtypeClass is numpy.dtype, called as dtype('f8', 0, 1).
type dtypeClass struct{}

func (dtypeClass) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("numpy dtype: want 3 arguments, got %d", len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("numpy dtype: type code is a %s, want a string", pyTypeName(args[0]))
	}
	for _, a := range args[1:] {
		if _, ok := asFlag(a); !ok {
			return nil, fmt.Errorf("numpy dtype: flag is a %s, want 0, 1 or a bool", pyTypeName(a))
		}
	}
	switch s {
	case "f4", "f8", "i4", "i8":
		return &dtype{kind: s[0], size: int(s[1] - '0')}, nil
	case "u1", "b1":
		return &dtype{kind: s[0], size: 1}, nil
	}
	return nil, fmt.Errorf("numpy dtype %s is not supported (want float32, float64, int32, int64, uint8 or bool)", strconv.Quote(clip(s)))
}

// PySetState takes numpy's dtype state (3, byteorder, None, None, None, -1, -1, flags), or the
// version-4 form with a trailing metadata None.
func (d *dtype) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || (t.Len() != 8 && t.Len() != 9) {
		return fmt.Errorf("numpy dtype: state is not an 8- or 9-tuple")
	}
	v, ok := t.Get(0).(int)
	if !ok || (v != 3 && v != 4) || (v == 3) != (t.Len() == 8) {
		return fmt.Errorf("numpy dtype: unsupported state version")
	}
	order, ok := t.Get(1).(string)
	if !ok || len(order) != 1 {
		return fmt.Errorf("numpy dtype: byte order is not a one-character string")
	}
	for i := 2; i <= 4; i++ {
		if t.Get(i) != nil {
			return fmt.Errorf("numpy dtype: structured and sub-array dtypes are not supported")
		}
	}
	if t.Len() == 9 && t.Get(8) != nil {
		return fmt.Errorf("numpy dtype: metadata is not supported")
	}
	switch o := order[0]; o {
	case '<', '>':
		d.order = o
	case '=':
		d.order = nativeOrder()
	case '|':
		if d.size != 1 {
			return fmt.Errorf("numpy dtype: %d-byte type without a byte order", d.size)
		}
		d.order = o
	default:
		return fmt.Errorf("numpy dtype: unknown byte order %q", o)
	}
	return nil
}

func nativeOrder() byte {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return '<'
	}
	return '>'
}

// ndarray is a numpy array as pickled: shape, dtype, memory order and the raw bytes. The raw
// bytes are kept as gopickle produced them (a string for Python 2 str, []byte for bytes) and
// decoded only on demand, so that a pickle referring to one large string many times cannot
// multiply the memory it takes.
type ndarray struct {
	shape   []int
	dt      dtype
	fortran bool
	raw     any // string or []byte; nil until BUILD
}

// maxRank bounds the arrays accepted: the Planetoid files hold 1-D and 2-D arrays only.
const maxRank = 2

// PySetState takes numpy's array state (1, shape, dtype, is_fortran, rawdata).
func (a *ndarray) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || t.Len() != 5 {
		return fmt.Errorf("numpy array: state is not a 5-tuple")
	}
	if v, ok := t.Get(0).(int); !ok || v != 1 {
		return fmt.Errorf("numpy array: unsupported state version")
	}
	st, ok := t.Get(1).(*types.Tuple)
	if !ok {
		return fmt.Errorf("numpy array: shape is a %s, want a tuple", pyTypeName(t.Get(1)))
	}
	if st.Len() > maxRank {
		return fmt.Errorf("numpy array: rank %d, want at most %d", st.Len(), maxRank)
	}
	shape := make([]int, st.Len())
	count := uint64(1)
	for i := range shape {
		d, ok := st.Get(i).(int)
		if !ok || d < 0 {
			return fmt.Errorf("numpy array: shape entry %d is not a non-negative int", i)
		}
		shape[i] = d
		overflow, p := mulU64(count, uint64(d))
		if overflow {
			return fmt.Errorf("numpy array: shape %v overflows", shape[:i+1])
		}
		count = p
	}
	dt, ok := t.Get(2).(*dtype)
	if !ok {
		return fmt.Errorf("numpy array: dtype is a %s, want a numpy.dtype", pyTypeName(t.Get(2)))
	}
	if dt.order == 0 {
		return fmt.Errorf("numpy array: dtype %s has no byte order (its state was never set)", dt)
	}
	fortran, ok := asFlag(t.Get(3))
	if !ok {
		return fmt.Errorf("numpy array: is_fortran is a %s, want a bool", pyTypeName(t.Get(3)))
	}
	var n int
	switch r := t.Get(4).(type) {
	case string:
		n = len(r)
	case []byte:
		n = len(r)
	default:
		return fmt.Errorf("numpy array: data is a %s, want a byte string (object arrays are not supported)", pyTypeName(r))
	}
	if overflow, want := mulU64(count, uint64(dt.size)); overflow || want != uint64(n) {
		return fmt.Errorf("numpy array: shape %v of %s needs %d elements of %d bytes, data has %d bytes", shape, dt, count, dt.size, n)
	}
	a.shape, a.dt, a.fortran, a.raw = shape, *dt, fortran, t.Get(4)
	return nil
}

func mulU64(a, b uint64) (overflow bool, p uint64) {
	if a != 0 && b > math.MaxInt64/a {
		return true, 0
	}
	return false, a * b
}

// len returns the number of elements.
func (a *ndarray) len() int {
	n := 1
	for _, d := range a.shape {
		n *= d
	}
	return n
}

// index maps the C-order (row-major) position i to the element's position in the raw data.
func (a *ndarray) index(i int) int {
	if !a.fortran || len(a.shape) < 2 {
		return i
	}
	rows, cols := a.shape[0], a.shape[1]
	r, c := i/cols, i%cols
	return c*rows + r
}

// bits returns the raw bits of element j (a raw position), zero-extended.
func bits[T string | []byte](raw T, j int, dt dtype) uint64 {
	lo := j * dt.size
	var u uint64
	if dt.order == '>' {
		for k := 0; k < dt.size; k++ {
			u = u<<8 | uint64(raw[lo+k])
		}
	} else {
		for k := dt.size - 1; k >= 0; k-- {
			u = u<<8 | uint64(raw[lo+k])
		}
	}
	return u
}

// each calls f with the bits of every element, in C order.
func (a *ndarray) each(f func(i int, u uint64)) {
	n := a.len()
	switch r := a.raw.(type) {
	case string:
		for i := 0; i < n; i++ {
			f(i, bits(r, a.index(i), a.dt))
		}
	case []byte:
		for i := 0; i < n; i++ {
			f(i, bits(r, a.index(i), a.dt))
		}
	}
}

// float64s returns the elements in C order as float64 values.
func (a *ndarray) float64s() []float64 {
	out := make([]float64, a.len())
	dt := a.dt
	a.each(func(i int, u uint64) {
		switch {
		case dt.kind == 'f' && dt.size == 4:
			out[i] = float64(math.Float32frombits(uint32(u)))
		case dt.kind == 'f':
			out[i] = math.Float64frombits(u)
		case dt.kind == 'i' && dt.size == 4:
			out[i] = float64(int32(uint32(u)))
		case dt.kind == 'i':
			out[i] = float64(int64(u))
		case dt.kind == 'b':
			out[i] = float64(b2i(u != 0))
		default: // uint8
			out[i] = float64(u)
		}
	})
	return out
}

// int64s returns the elements in C order; the array must hold integers or bools.
func (a *ndarray) int64s() ([]int64, error) {
	dt := a.dt
	if dt.kind == 'f' {
		return nil, fmt.Errorf("dtype %s, want an integer array", dt)
	}
	out := make([]int64, a.len())
	a.each(func(i int, u uint64) {
		switch {
		case dt.kind == 'i' && dt.size == 4:
			out[i] = int64(int32(uint32(u)))
		case dt.kind == 'b':
			out[i] = b2i(u != 0)
		default: // int64, uint8
			out[i] = int64(u)
		}
	})
	return out, nil
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// csrClass is scipy.sparse.csr.csr_matrix, created empty by NEWOBJ and filled by BUILD with its
// __dict__.
type csrClass struct{}

func (csrClass) PyNew(args ...any) (any, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("scipy csr_matrix: want no constructor arguments, got %d", len(args))
	}
	return &csrMatrix{}, nil
}

// csrMatrix holds the attributes of a pickled scipy CSR matrix that the loader reads.
type csrMatrix struct {
	rows, cols             int
	hasShape               bool
	format                 string
	indptr, indices, value *ndarray
}

// PyDictSet receives the matrix's __dict__ entries. Attributes other than format, _shape,
// indptr, indices and data (maxprint, the sorted-indices flag) are not needed and are ignored.
func (m *csrMatrix) PyDictSet(key, value any) error {
	k, ok := key.(string)
	if !ok {
		return fmt.Errorf("scipy csr_matrix: attribute name is a %s, want a string", pyTypeName(key))
	}
	arr := func() (*ndarray, error) {
		a, ok := value.(*ndarray)
		if !ok {
			return nil, fmt.Errorf("scipy csr_matrix: %s is a %s, want a numpy.ndarray", k, pyTypeName(value))
		}
		if a.raw == nil {
			return nil, fmt.Errorf("scipy csr_matrix: %s is an array whose state was never set", k)
		}
		if len(a.shape) != 1 {
			return nil, fmt.Errorf("scipy csr_matrix: %s has rank %d, want 1", k, len(a.shape))
		}
		return a, nil
	}
	var err error
	switch k {
	case "format":
		s, ok := value.(string)
		if !ok {
			return fmt.Errorf("scipy csr_matrix: format is a %s, want a string", pyTypeName(value))
		}
		m.format = s
	case "_shape":
		t, ok := value.(*types.Tuple)
		if !ok || t.Len() != 2 {
			return fmt.Errorf("scipy csr_matrix: _shape is not a 2-tuple")
		}
		r, ok1 := t.Get(0).(int)
		c, ok2 := t.Get(1).(int)
		if !ok1 || !ok2 || r < 0 || c < 0 || r > math.MaxInt32 || c > math.MaxInt32 {
			return fmt.Errorf("scipy csr_matrix: _shape is not two ints in [0, %d]", math.MaxInt32)
		}
		m.rows, m.cols, m.hasShape = r, c, true
	case "indptr":
		m.indptr, err = arr()
	case "indices":
		m.indices, err = arr()
	case "data":
		m.value, err = arr()
	}
	return err
}

// sparse converts the matrix to a SparseMatrix, checking that its arrays agree with its shape
// and with each other. Duplicate entries are summed and columns sorted within each row, as
// scipy's todense() would see them.
func (m *csrMatrix) sparse() (*SparseMatrix, error) {
	switch {
	case !m.hasShape:
		return nil, fmt.Errorf("scipy csr_matrix has no _shape")
	case m.format != "" && m.format != "csr":
		return nil, fmt.Errorf("scipy csr_matrix has format %s, want csr", strconv.Quote(clip(m.format)))
	case m.indptr == nil || m.indices == nil || m.value == nil:
		return nil, fmt.Errorf("scipy csr_matrix lacks one of indptr, indices, data")
	}
	for _, a := range []*ndarray{m.indptr, m.indices, m.value} {
		if len(a.shape) != 1 { // an array may be rebuilt after it was stored
			return nil, fmt.Errorf("scipy csr_matrix: array of rank %d, want 1", len(a.shape))
		}
	}
	ptr, err := m.indptr.int64s()
	if err != nil {
		return nil, fmt.Errorf("scipy csr_matrix indptr: %v", err)
	}
	idx, err := m.indices.int64s()
	if err != nil {
		return nil, fmt.Errorf("scipy csr_matrix indices: %v", err)
	}
	if len(ptr) != m.rows+1 {
		return nil, fmt.Errorf("scipy csr_matrix: indptr has %d entries, want rows+1 = %d", len(ptr), m.rows+1)
	}
	nnz := len(idx)
	if m.value.len() != nnz {
		return nil, fmt.Errorf("scipy csr_matrix: %d indices but %d values", nnz, m.value.len())
	}
	if ptr[0] != 0 || ptr[m.rows] != int64(nnz) {
		return nil, fmt.Errorf("scipy csr_matrix: indptr runs from %d to %d, want 0 to nnz = %d", ptr[0], ptr[m.rows], nnz)
	}
	s := &SparseMatrix{
		Rows:   m.rows,
		Cols:   m.cols,
		RowPtr: make([]int, m.rows+1),
		ColIdx: make([]int32, nnz),
		Values: make([]float32, nnz),
	}
	for i := 0; i < m.rows; i++ {
		if ptr[i+1] < ptr[i] {
			return nil, fmt.Errorf("scipy csr_matrix: indptr decreases at row %d (%d > %d)", i, ptr[i], ptr[i+1])
		}
		s.RowPtr[i+1] = int(ptr[i+1])
	}
	for e, c := range idx {
		if c < 0 || c >= int64(m.cols) {
			return nil, fmt.Errorf("scipy csr_matrix: column index %d out of range [0, %d)", c, m.cols)
		}
		s.ColIdx[e] = int32(c)
	}
	for e, v := range m.value.float64s() {
		f := float32(v)
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return nil, fmt.Errorf("scipy csr_matrix: value %v (entry %d) is not a finite float32", v, e)
		}
		s.Values[e] = f
	}
	s.canonicalize()
	if err := s.Validate(); err != nil { // summed duplicates may overflow float32
		return nil, fmt.Errorf("scipy csr_matrix: %v", err)
	}
	return s, nil
}

// defaultdictClass is collections.defaultdict, called as defaultdict(list).
type defaultdictClass struct{}

func (defaultdictClass) Call(args ...any) (any, error) {
	if len(args) != 1 || args[0] != listClass {
		return nil, fmt.Errorf("collections.defaultdict: want defaultdict(list)")
	}
	return &defaultDict{}, nil
}

// defaultDict keeps the items set by SETITEM(S) in order; they are checked when converted.
type defaultDict struct{ entries []types.DictEntry }

func (d *defaultDict) Set(key, value any) {
	d.entries = append(d.entries, types.DictEntry{Key: key, Value: value})
}

// adjacency converts a pickled {int: [int, ...]} mapping (a defaultdict or a plain dict) to
// adjacency lists, in the order the keys first appear; a repeated key replaces the earlier list,
// as in Python. Neighbour lists may not be shared between keys: each key of a real file has its
// own list, and sharing would let a small file describe a huge graph.
func adjacency(v any) (keys []int, lists [][]int, err error) {
	var entries []types.DictEntry
	switch d := v.(type) {
	case *defaultDict:
		entries = d.entries
	case *types.Dict:
		entries = *d
	default:
		return nil, nil, fmt.Errorf("got a %s, want a dict of int -> list of int", pyTypeName(v))
	}
	pos := make(map[int]int, len(entries))
	seen := make(map[*types.List]bool, len(entries))
	for _, e := range entries {
		k, ok := e.Key.(int)
		if !ok || k < 0 {
			return nil, nil, fmt.Errorf("key %s is not a non-negative int", pyRepr(e.Key))
		}
		l, ok := e.Value.(*types.List)
		if !ok {
			return nil, nil, fmt.Errorf("node %d: neighbours are a %s, want a list", k, pyTypeName(e.Value))
		}
		if seen[l] {
			return nil, nil, fmt.Errorf("node %d: its neighbour list is shared with another node", k)
		}
		seen[l] = true
		nb := make([]int, l.Len())
		for j, x := range *l {
			n, ok := x.(int)
			if !ok || n < 0 {
				return nil, nil, fmt.Errorf("node %d: neighbour %s is not a non-negative int", k, pyRepr(x))
			}
			nb[j] = n
		}
		if p, dup := pos[k]; dup {
			lists[p] = nb
			continue
		}
		pos[k] = len(keys)
		keys = append(keys, k)
		lists = append(lists, nb)
	}
	return keys, lists, nil
}

// asFlag reads a Python bool or the ints 0 and 1.
func asFlag(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case int:
		return x == 1, x == 0 || x == 1
	}
	return false, false
}

// pyTypeName names the Python type behind a value gopickle produced, for error messages.
func pyTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case *types.Tuple:
		return "tuple"
	case *types.List:
		return "list"
	case *types.Dict:
		return "dict"
	case *ndarray:
		return "numpy.ndarray"
	case *dtype:
		return "numpy.dtype"
	case *csrMatrix:
		return "scipy.sparse.csr_matrix"
	case *defaultDict:
		return "collections.defaultdict"
	case *pyClass:
		return "class " + x.name
	case reconstructFunc:
		return "function numpy.core.multiarray._reconstruct"
	case dtypeClass:
		return "class numpy.dtype"
	case csrClass:
		return "class scipy.sparse.csr.csr_matrix"
	case defaultdictClass:
		return "class collections.defaultdict"
	}
	return fmt.Sprintf("%T", v)
}

// pyRepr shows a scalar value, or the type of anything else.
func pyRepr(v any) string {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x)
	case string:
		return strconv.Quote(clip(x))
	}
	return "of type " + pyTypeName(v)
}
