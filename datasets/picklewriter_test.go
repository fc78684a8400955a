package datasets

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// pickleWriter writes protocol-2 pickles with the structure of the Planetoid files (as shown by
// pickletools.dis on the Cora files): globals memoised and fetched again with BINGET, numpy
// arrays as _reconstruct + BUILD, scipy CSR matrices as NEWOBJ + BUILD of their __dict__, the
// graph as a defaultdict(list) filled by SETITEMS and APPENDS in batches of 1000.
type pickleWriter struct {
	b       bytes.Buffer
	memo    int
	globals map[string]int
}

func newPickle() *pickleWriter {
	w := &pickleWriter{globals: map[string]int{}}
	w.op(0x80, 2) // PROTO 2
	return w
}

func (w *pickleWriter) op(b ...byte) { w.b.Write(b) }

func (w *pickleWriter) put() {
	if w.memo < 256 {
		w.op('q', byte(w.memo))
	} else {
		w.op('r')
		w.b.Write(binary.LittleEndian.AppendUint32(nil, uint32(w.memo)))
	}
	w.memo++
}

func (w *pickleWriter) get(i int) {
	if i < 256 {
		w.op('h', byte(i))
		return
	}
	w.op('j')
	w.b.Write(binary.LittleEndian.AppendUint32(nil, uint32(i)))
}

func (w *pickleWriter) global(module, name string) {
	key := module + "\n" + name + "\n"
	if i, ok := w.globals[key]; ok {
		w.get(i)
		return
	}
	w.op('c')
	w.b.WriteString(key)
	w.globals[key] = w.memo
	w.put()
}

func (w *pickleWriter) int(v int) {
	switch {
	case v >= 0 && v < 1<<8:
		w.op('K', byte(v))
	case v >= 0 && v < 1<<16:
		w.op('M', byte(v), byte(v>>8))
	default:
		w.op('J')
		w.b.Write(binary.LittleEndian.AppendUint32(nil, uint32(int32(v))))
	}
}

// str writes a Python 2 str (SHORT_BINSTRING or BINSTRING), the bytes unchanged.
func (w *pickleWriter) str(s string) {
	if len(s) < 256 {
		w.op('U', byte(len(s)))
	} else {
		w.op('T')
		w.b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s))))
	}
	w.b.WriteString(s)
}

func (w *pickleWriter) boolean(v bool) {
	if v {
		w.op(0x88)
	} else {
		w.op(0x89)
	}
}

func (w *pickleWriter) bytes() []byte { return bytes.Clone(w.b.Bytes()) }

// ndarray writes numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), 'b') and its BUILD
// with state (1, shape, dtype(code), fortran, raw).
func (w *pickleWriter) ndarray(shape []int, code string, order byte, fortran bool, raw []byte) {
	w.global("numpy.core.multiarray", "_reconstruct")
	w.global("numpy", "ndarray")
	w.int(0)
	w.op(0x85) // TUPLE1
	w.str("b")
	w.op(0x87) // TUPLE3
	w.op('R')
	w.put()
	w.op('(')
	w.int(1)
	w.tuple(shape)
	w.dtype(code, order)
	w.boolean(fortran)
	w.str(string(raw))
	w.op('t', 'b')
}

// tuple writes a tuple of ints as Python does: TUPLE1..3 when short, else MARK ... TUPLE.
func (w *pickleWriter) tuple(v []int) {
	if len(v) == 0 || len(v) > 3 {
		w.op('(')
	}
	for _, d := range v {
		w.int(d)
	}
	switch len(v) {
	case 1:
		w.op(0x85)
	case 2:
		w.op(0x86)
	case 3:
		w.op(0x87)
	default:
		w.op('t')
	}
}

// dtype writes numpy.dtype(code, 0, 1) with its state, or fetches the same dtype from the memo
// as the Cora files do for a second array of the same type.
func (w *pickleWriter) dtype(code string, order byte) {
	key := "dtype " + code + string(order)
	if i, ok := w.globals[key]; ok {
		w.get(i)
		return
	}
	w.global("numpy", "dtype")
	w.str(code)
	w.int(0)
	w.int(1)
	w.op(0x87, 'R')
	w.globals[key] = w.memo
	w.put()
	w.op('(')
	w.int(3)
	w.str(string(order))
	w.op('N', 'N', 'N')
	w.int(-1)
	w.int(-1)
	w.int(0)
	w.op('t', 'b')
}

// key writes a dict key string and memoises it, as cPickle does.
func (w *pickleWriter) key(s string) {
	w.str(s)
	w.put()
}

func le32s(v []int32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

func le32f(v []float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// csrPickle writes a scipy.sparse.csr.csr_matrix as the Planetoid x, tx and allx files hold it.
func csrPickle(rows, cols int, indptr, indices []int32, data []float32) []byte {
	w := newPickle()
	w.global("scipy.sparse.csr", "csr_matrix")
	w.op(')', 0x81) // EMPTY_TUPLE NEWOBJ
	w.put()
	w.op('}')
	w.put()
	w.op('(')
	w.key("format")
	w.str("csr")
	w.key("_shape")
	w.tuple([]int{rows, cols})
	w.key("indptr")
	w.ndarray([]int{len(indptr)}, "i4", '<', false, le32s(indptr))
	w.key("_cs_matrix__has_sorted_indices")
	w.boolean(true)
	w.key("indices")
	w.ndarray([]int{len(indices)}, "i4", '<', false, le32s(indices))
	w.key("maxprint")
	w.int(50)
	w.key("data")
	w.ndarray([]int{len(data)}, "f4", '<', false, le32f(data))
	w.op('u', 'b', '.')
	return w.bytes()
}

// denseCSR writes the rows of a dense row-major matrix as a CSR pickle.
func denseCSR(rows, cols int, dense []float32) []byte {
	indptr := []int32{0}
	var indices []int32
	var data []float32
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			if v := dense[i*cols+j]; v != 0 {
				indices = append(indices, int32(j))
				data = append(data, v)
			}
		}
		indptr = append(indptr, int32(len(indices)))
	}
	return csrPickle(rows, cols, indptr, indices, data)
}

// onehotPickle writes labels as a 2-D one-hot array of dtype code ("i4", as in the Cora files,
// or "f8", as the dataset README describes them); label -1 makes an all-zero row.
func onehotPickle(labels []int, classes int, code string) []byte {
	var raw []byte
	for _, l := range labels {
		for c := 0; c < classes; c++ {
			v := 0
			if c == l {
				v = 1
			}
			switch code {
			case "i4":
				raw = binary.LittleEndian.AppendUint32(raw, uint32(v))
			case "f8":
				raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(float64(v)))
			default:
				panic("onehotPickle: dtype " + code)
			}
		}
	}
	w := newPickle()
	w.ndarray([]int{len(labels), classes}, code, '<', false, raw)
	w.op('.')
	return w.bytes()
}

// graphPickle writes a defaultdict(list) with the given keys and neighbour lists, in order.
func graphPickle(keys []int, lists [][]int) []byte {
	w := newPickle()
	w.global("collections", "defaultdict")
	w.global("__builtin__", "list")
	w.op(0x85, 'R')
	w.put()
	for lo := 0; lo < len(keys); lo += 1000 {
		w.op('(')
		for i := lo; i < len(keys) && i < lo+1000; i++ {
			w.int(keys[i])
			w.op(']')
			w.put()
			switch nb := lists[i]; len(nb) {
			case 0:
			case 1:
				w.int(nb[0])
				w.op('a')
			default:
				for a := 0; a < len(nb); a += 1000 {
					w.op('(')
					for b := a; b < len(nb) && b < a+1000; b++ {
						w.int(nb[b])
					}
					w.op('e')
				}
			}
		}
		w.op('u')
	}
	w.op('.')
	return w.bytes()
}

// synthPlanetoid describes a small data set in final node order; files derives the eight
// Planetoid files from it the way the authors laid theirs out.
type synthPlanetoid struct {
	numFeatures, numClasses int
	features                [][]float32 // per node, dense
	labels                  []int       // per node, -1 for nodes missing from the files
	numAllx, numX           int
	test                    []int // test.index, in file order
	graphKeys               []int
	graphLists              [][]int
	labelDtype              string
}

// smallCiteSeer is a CiteSeer-shaped data set: 3 training nodes, 502 other allx nodes, and 4
// test nodes listed out of order whose range 505..509 has a gap at node 508, an isolated node
// missing from tx and ty, as CiteSeer's 15 are.
func smallCiteSeer(labelDtype string) *synthPlanetoid {
	const nf, nc, na, nx = 7, 3, 505, 3
	s := &synthPlanetoid{numFeatures: nf, numClasses: nc, numAllx: na, numX: nx, labelDtype: labelDtype}
	s.test = []int{507, 505, 509, 506}
	n := 510
	for i := 0; i < n; i++ {
		row := make([]float32, nf)
		row[i%nf] = 1
		row[(i/nf)%nf] += 1 // some rows hold a 2, the way duplicates would sum
		s.features = append(s.features, row)
		s.labels = append(s.labels, i%nc)
	}
	s.features[508] = make([]float32, nf)
	s.labels[508] = -1
	// A ring over the nodes except 508, plus a duplicate edge, a self-loop and the gap node's
	// self-loop, which the loader drops.
	adj := map[int][]int{}
	prev := n - 1
	for i := 0; i < n; i++ {
		if i == 508 {
			continue
		}
		adj[i] = append(adj[i], prev)
		adj[prev] = append(adj[prev], i)
		prev = i
	}
	adj[0] = append(adj[0], 1, 1, 0)
	adj[508] = []int{508}
	for i := 0; i < n; i++ {
		if l, ok := adj[i]; ok {
			s.graphKeys = append(s.graphKeys, i)
			s.graphLists = append(s.graphLists, l)
		}
	}
	return s
}

func (s *synthPlanetoid) files() map[string][]byte {
	flat := func(nodes []int) []float32 {
		var out []float32
		for _, v := range nodes {
			out = append(out, s.features[v]...)
		}
		return out
	}
	labelsOf := func(nodes []int) []int {
		var out []int
		for _, v := range nodes {
			out = append(out, s.labels[v])
		}
		return out
	}
	x, allx := seq(0, s.numX), seq(0, s.numAllx)
	var idx []byte
	for _, v := range s.test {
		idx = append(idx, strconv.Itoa(v)+"\n"...)
	}
	return map[string][]byte{
		"x":          denseCSR(len(x), s.numFeatures, flat(x)),
		"tx":         denseCSR(len(s.test), s.numFeatures, flat(s.test)),
		"allx":       denseCSR(len(allx), s.numFeatures, flat(allx)),
		"y":          onehotPickle(labelsOf(x), s.numClasses, s.labelDtype),
		"ty":         onehotPickle(labelsOf(s.test), s.numClasses, s.labelDtype),
		"ally":       onehotPickle(labelsOf(allx), s.numClasses, s.labelDtype),
		"graph":      graphPickle(s.graphKeys, s.graphLists),
		"test.index": idx,
	}
}

// writeFiles writes files of data set name into root/planetoid and returns that directory.
func writeFiles(t testing.TB, root, name string, files map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(root, "planetoid")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for s, b := range files {
		if err := os.WriteFile(filepath.Join(dir, fileName(name, s)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
