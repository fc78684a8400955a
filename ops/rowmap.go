package ops

import (
	"fmt"
	"sync"
	"sync/atomic"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops/asm"
)

// A rowMap is what a gather/scatter pair shares: every item k (an edge, a selected row, a row of a
// batch) belongs to one node rows[k] in [0, nodes). A gather copies node rows onto items; a
// scatter reduces the items of each node. Its grouping lists, node by node, the items that
// belong to the node, in increasing item order (a stable counting sort of rows): as a CSR
// with NumDst = nodes, NumSrc = items and ColIdx[t] = the item in slot t, so scatters run as
// gathers split by output row, never with atomics.
//
// A map is either fixed, from a graph (sources or destinations of its edges), or read at run
// time from an index input, a 1-D tensor.Int node whose value may change between runs.
type rowMap struct {
	kind         string     // "src", "dst", "index" or "segment": in op names
	api          string     // the exported op that made the map: in errors
	g            *graph.CSR // the graph of a fixed map, nil otherwise
	nodes, items int
	sorted       bool // the index input must be non-decreasing (segment vectors)

	// Fixed maps compute their rows and grouping once, on first use.
	makeRows  func() []int32
	makeGroup func() *graph.CSR
	rowsOnce  sync.Once
	groupOnce sync.Once
	rows      []int32
	group     *graph.CSR

	// An index map keeps its last index value and grouping (see resolve).
	last atomic.Pointer[indexSnapshot]
}

func (m *rowMap) fixed() bool { return m.makeRows != nil }

// scattered reports whether a group's items lie scattered over the item list (edge sources, an
// unsorted index) rather than next to each other (edge destinations, a segment vector). Their
// sums read x in random order, where prefetching the next group's rows costs more than it
// saves (measured on a quiet machine), and where 2 MB pages save TLB misses (SetHugePages).
func (m *rowMap) scattered() bool { return m.kind == "src" || (!m.fixed() && !m.sorted) }

// srcMap maps every edge of a to its source; its grouping is a's transpose.
func srcMap(api string, a *graph.CSR) *rowMap {
	return &rowMap{kind: "src", api: api, g: a, nodes: a.NumSrc, items: a.NumEdges(),
		makeRows: func() []int32 { return a.ColIdx },
		makeGroup: func() *graph.CSR {
			tr := a.Transpose()
			return &graph.CSR{NumSrc: a.NumEdges(), NumDst: a.NumSrc, RowPtr: tr.Graph.RowPtr, ColIdx: tr.Edge}
		}}
}

// dstMap maps every edge of a to its destination; its grouping is a's own rows.
func dstMap(api string, a *graph.CSR) *rowMap {
	return &rowMap{kind: "dst", api: api, g: a, nodes: a.NumDst, items: a.NumEdges(),
		makeRows: a.Dst,
		makeGroup: func() *graph.CSR {
			return &graph.CSR{NumSrc: a.NumEdges(), NumDst: a.NumDst, RowPtr: a.RowPtr, ColIdx: iota32(a.NumEdges())}
		}}
}

// indexMap is a map read from an index input of the given length, values in [0, nodes).
func indexMap(api, kind string, nodes, items int, sorted bool) *rowMap {
	return &rowMap{kind: kind, api: api, nodes: nodes, items: items, sorted: sorted}
}

// errPrefix names, in run-time errors, the exported op a gather or scatter belongs to.
func (m *rowMap) errPrefix(grad bool) string {
	if grad {
		return "ops: " + m.api + " (gradient)"
	}
	return "ops: " + m.api
}

func (m *rowMap) String() string {
	return fmt.Sprintf("%s(%p,%d,%d)", m.kind, m.g, m.nodes, m.items)
}

// mapScratch holds an op's per-run index buffers, reused between runs.
type mapScratch struct {
	rows     []int32
	next     []int
	counts   []int32
	grouping graph.CSR // when groupings are not kept
}

// An indexSnapshot is the last value an index map resolved for a scatter, and its grouping once
// built. A new index value gets a new snapshot, and the replaced one's buffers serve the next, so
// an index that changes every run allocates nothing either: ops on one graph run one at a time
// (see the package doc), so none still reads them.
type indexSnapshot struct {
	rows  []int32
	group *graph.CSR
}

// groupNeed says what a run wants of a map besides the item -> node rows.
type groupNeed int

const (
	groupNone   groupNeed = iota // rows only
	groupCached                  // the grouping if the index is grouped already or comes back; else none (the caller sweeps)
	groupAlways                  // the grouping
)

// resolve returns the item -> node rows and, as need asks, the grouping, for one run. vals[k] is
// the index input of a map that is not fixed.
//
// An index map that is asked for its grouping keeps its last index value, so that a training loop
// feeding the same index run after run (the usual case) sorts it once: checking that the index
// is unchanged reads its entries, which the range check reads anyway. A new value is grouped
// when need is groupAlways, else only when it comes back in a later run; until then the caller
// sweeps (sweepSum), which needs no grouping. Either way each row sums its items in item order,
// so the paths agree bit for bit.
func (m *rowMap) resolve(op string, s *mapScratch, vals []G.Value, k int, need groupNeed) ([]int32, *graph.CSR, error) {
	if m.fixed() {
		m.rowsOnce.Do(func() { m.rows = m.makeRows() })
		var gr *graph.CSR
		if need != groupNone {
			m.groupOnce.Do(func() { m.group = m.makeGroup() })
			gr = m.group
		}
		return m.rows, gr, nil
	}
	var last *indexSnapshot
	var prev []int32
	if need != groupNone && cacheGroupings {
		if last = m.last.Load(); last != nil {
			prev = last.rows
		}
	}
	rows, same, err := m.readIndex(op, s, vals, k, prev)
	if err != nil || need == groupNone || !cacheGroupings {
		if err == nil && need == groupAlways {
			return rows, groupRows(rows, m.nodes, s, &s.grouping), nil
		}
		return rows, nil, err
	}
	var spare *graph.CSR
	if same {
		if last.group != nil {
			return last.rows, last.group, nil
		}
		rows, need = last.rows, groupAlways // it came back: sort it once
	} else {
		// rows now belong to the snapshot; the replaced one's buffers are free again.
		s.rows = nil
		if last != nil {
			s.rows, spare = last.rows, last.group
		}
	}
	snap := &indexSnapshot{rows: rows}
	if need == groupAlways {
		snap.group = groupRows(rows, m.nodes, s, spare)
	}
	m.last.Store(snap)
	return rows, snap.group, nil
}

// readIndex converts input k to int32 rows in s's buffer, checking their range (and order, for a
// sorted map), and reports whether they equal prev.
func (m *rowMap) readIndex(op string, s *mapScratch, vals []G.Value, k int, prev []int32) ([]int32, bool, error) {
	idx, err := indexArg(op, vals, k, m.items)
	if err != nil {
		return nil, false, err
	}
	if cap(s.rows) < m.items {
		s.rows = make([]int32, m.items)
	}
	rows := s.rows[:m.items]
	what := "index"
	if m.sorted {
		what = "segment id"
	}
	for i, v := range idx {
		if v < 0 || v >= m.nodes {
			return nil, false, fmt.Errorf("%s: %s %d at position %d is out of range [0, %d)", op, what, v, i, m.nodes)
		}
		if m.sorted && i > 0 && v < idx[i-1] {
			return nil, false, fmt.Errorf("%s: segment vector is not sorted: %d at position %d follows %d; sort the rows by segment (batches of graphs are built that way)", op, v, i, idx[i-1])
		}
		rows[i] = int32(v)
	}
	if len(prev) != len(rows) || prev == nil {
		return rows, false, nil
	}
	var diff int32
	for i, r := range rows {
		diff |= r ^ prev[i]
	}
	return rows, diff == 0, nil
}

// groupRows returns the grouping of rows by a stable counting sort, in spare's buffers if it is
// not nil (a grouping no longer used), else in new ones; s lends the scratch.
func groupRows(rows []int32, nodes int, s *mapScratch, spare *graph.CSR) *graph.CSR {
	if cap(s.next) < nodes {
		s.next = make([]int, nodes)
	}
	if spare == nil {
		spare = &graph.CSR{}
	}
	if cap(spare.RowPtr) < nodes+1 {
		spare.RowPtr = make([]int, nodes+1)
	}
	if cap(spare.ColIdx) < len(rows) {
		spare.ColIdx = make([]int32, len(rows))
	}
	ptr, next, perm := spare.RowPtr[:nodes+1], s.next[:nodes], spare.ColIdx[:len(rows)]
	clear(ptr)
	for _, r := range rows {
		ptr[r+1]++
	}
	for i := 0; i < nodes; i++ {
		ptr[i+1] += ptr[i]
	}
	copy(next, ptr[:nodes])
	for k, r := range rows {
		perm[next[r]] = int32(k)
		next[r]++
	}
	*spare = graph.CSR{NumSrc: len(rows), NumDst: nodes, RowPtr: ptr, ColIdx: perm}
	return spare
}

var intVectorType = G.TensorType{Dims: 1, Of: tensor.Int}

// indexArg returns input k as the []int of a 1-D tensor.Int of the given length.
func indexArg(op string, vals []G.Value, k, length int) ([]int, error) {
	if len(vals) <= k {
		return nil, fmt.Errorf("%s: %d inputs, want %d", op, len(vals), k+1)
	}
	t, ok := vals[k].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%s: index input is %T, want a 1-D tensor.Int (see NewIndex)", op, vals[k])
	}
	if t.Dtype() != tensor.Int || t.Dims() != 1 {
		return nil, fmt.Errorf("%s: index input has dtype %v and shape %v, want a 1-D tensor.Int (see NewIndex)", op, t.Dtype(), t.Shape())
	}
	if t.Shape()[0] != length {
		return nil, fmt.Errorf("%s: index input has %d entries, want %d (its length is fixed when the graph is built)", op, t.Shape()[0], length)
	}
	if t.IsView() {
		if m, ok := t.Materialize().(*tensor.Dense); ok {
			t = m
		}
	}
	return t.Ints(), nil
}

// checkIndexNode validates an index node at graph-building time and returns its length.
func checkIndexNode(op, what string, idx *G.Node) (int, error) {
	if idx == nil {
		return 0, fmt.Errorf("ops: %s: nil %s node", op, what)
	}
	if idx.Dtype() != tensor.Int || idx.Dims() != 1 {
		return 0, fmt.Errorf("ops: %s: %s has dtype %v and %d dimensions, want a 1-D tensor.Int vector (make it with NewIndex)", op, what, idx.Dtype(), idx.Dims())
	}
	return idx.Shape()[0], nil
}

// checkFeatureNode validates a (rows, F) float matrix node at graph-building time and returns
// its shape; rows < 0 accepts any row count.
func checkFeatureNode(op, what string, x *G.Node, rows int) (tensor.Shape, error) {
	if x == nil {
		return nil, fmt.Errorf("ops: %s: nil %s node", op, what)
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("ops: %s: %s has dtype %v, want float32 or float64", op, what, dt)
	}
	s := x.Shape()
	if len(s) != 2 {
		return nil, fmt.Errorf("ops: %s: %s has shape %v, want a matrix (rows x features)", op, what, s)
	}
	if rows >= 0 && s[0] != rows {
		return nil, fmt.Errorf("ops: %s: %s has %d rows, want %d", op, what, s[0], rows)
	}
	return s, nil
}

// prefetchGroups switches the software prefetch of the rows a gather or scatter reads next
// (float32, with the assembly backend); gatherAhead is how many rows ahead a gather asks.
var prefetchGroups = true

// sweepScatters switches sweepSum on for the sum and mean scatters of unsorted index maps.
var sweepScatters = true

// cacheGroupings switches on keeping an index map's last index and grouping (see resolve).
var cacheGroupings = true

const gatherAhead = 8

// sweepAhead is how many items ahead sweepSum asks for the output row an item adds onto.
const sweepAhead = 16

var (
	iotaMu  sync.Mutex
	iotaBuf []int32
)

// iota32 returns 0, 1, ..., n-1 (shared and read-only).
func iota32(n int) []int32 {
	iotaMu.Lock()
	defer iotaMu.Unlock()
	if len(iotaBuf) < n {
		b := make([]int32, max(n, 2*len(iotaBuf)))
		for i := range b {
			b[i] = int32(i)
		}
		iotaBuf = b
	}
	return iotaBuf[:n:n]
}

// gatherRows sets y[k] = x[rows[k]] (times scale[rows[k]] when scale is not nil), for rows of
// the given width, in parallel over k.
func gatherRows[T Float](rows []int32, x, y []T, width int, scale []T) {
	k := kernelsFor[T]()
	x32, _ := any(x).([]float32)
	forChunks(len(rows), width, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if x32 != nil && prefetchGroups && i+gatherAhead < hi {
				r := int(rows[i+gatherAhead])
				asm.PrefetchF32(x32[r*width : (r+1)*width])
			}
			r := int(rows[i])
			yi := y[i*width : (i+1)*width]
			copy(yi, x[r*width:(r+1)*width])
			if scale != nil {
				k.scale(scale[r], yi)
			}
		}
	})
}

// sumGroups sets y[i] = sum of x[item] over the items of group row i (divided by their count
// when mean is true), in parallel over i: every output row is one worker's, summed in item
// order, so results do not depend on the number of workers. An empty row is zero.
func sumGroups[T Float](gr *graph.CSR, x, y []T, width int, mean, scattered bool) {
	k := kernelsFor[T]()
	x32, _ := any(x).([]float32)
	if scattered {
		x32 = nil // no prefetch
	}
	forRows(gr, width, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e0, e1 := gr.RowPtr[i], gr.RowPtr[i+1]
			if x32 != nil && prefetchGroups && i+1 < hi {
				// The next row's items are scattered over x (a scatter's input is as large as
				// the edge list): ask for them while this row is summed.
				for _, it := range gr.ColIdx[e1:gr.RowPtr[i+2]] {
					asm.PrefetchF32(x32[int(it)*width : int(it+1)*width])
				}
			}
			yi := y[i*width : (i+1)*width]
			k.gatherSum(yi, x, width, gr.ColIdx[e0:e1], nil)
			if mean && e1-e0 > 1 {
				k.scale(1/T(e1-e0), yi)
			}
		}
	})
}

// sweepSum is sumGroups for an unsorted index, whose grouping would have to be sorted out on
// every run, and reading x group by group jumps through all of it. Instead each
// worker owns a range of output rows and reads the items in increasing order, adding those whose
// row it owns, so x streams forward and only y, the smaller matrix, is written out of order. Every
// row still sums its items in item order from zero, as sumGroups does, so the two agree bit for
// bit and results do not depend on the number of workers. bounds, from ownerBounds, splits
// [0, len(y)/width) among the workers; counts is scratch of one int32 per output row.
func sweepSum[T Float](rows []int32, bounds []int, x, y []T, width int, mean bool, counts []int32) {
	if width == 0 {
		return
	}
	k := kernelsFor[T]()
	y32, _ := any(y).([]float32)
	if !prefetchGroups {
		y32 = nil
	}
	sweep := func(lo, hi int) {
		clear(y[lo*width : hi*width])
		if mean {
			clear(counts[lo:hi])
		}
		all := lo == 0 && hi == len(y)/width
		for it, r := range rows {
			if !all && (int(r) < lo || int(r) >= hi) {
				continue
			}
			if y32 != nil && it+sweepAhead < len(rows) {
				// y is read and written out of order, x streams: ask for the y row of an item
				// ahead, if it is this worker's.
				if q := int(rows[it+sweepAhead]); all || (q >= lo && q < hi) {
					asm.PrefetchF32(y32[q*width : (q+1)*width])
				}
			}
			k.axpy(1, x[it*width:(it+1)*width], y[int(r)*width:(int(r)+1)*width])
			if mean {
				counts[r]++
			}
		}
		if mean {
			for i := lo; i < hi; i++ {
				if c := counts[i]; c > 1 {
					k.scale(1/T(c), y[i*width:(i+1)*width])
				}
			}
		}
	}
	forBounds(bounds, sweep)
}

// ownerBounds splits nodes output rows among the workers of a sweepSum over items rows of the
// given width, in equal ranges; one range when the work is small.
func ownerBounds(nodes, items, width int) []int {
	w := workers()
	if w == 1 || (items+nodes)*width < serialWork || nodes < 2 {
		return []int{0, nodes}
	}
	w = min(w, nodes)
	b := make([]int, w+1)
	for i := range b {
		b[i] = nodes * i / w
	}
	return b
}

// inverseCounts returns 1/(number of items) per row of a grouping (0 for an empty row).
func inverseCounts[T Float](gr *graph.CSR, buf []T) []T {
	if cap(buf) < gr.NumDst {
		buf = make([]T, gr.NumDst)
	}
	buf = buf[:gr.NumDst]
	for i := range buf {
		buf[i] = 0
		if c := gr.RowPtr[i+1] - gr.RowPtr[i]; c > 0 {
			buf[i] = 1 / T(c)
		}
	}
	return buf
}

// maxGroupsBackward routes dy[i][f] to the item of group row i that attains the maximum in
// column f (the first in item order on ties) and sets every other item's gradient to zero. Each
// item belongs to one row, so the writes of different rows never meet.
func maxGroupsBackward[T Float](gr *graph.CSR, x, dy, dx []T, width int) {
	k := kernelsFor[T]()
	forRows(gr, width, func(lo, hi int) {
		ys := make([]T, width)
		arg := make([]int32, width)
		for i := lo; i < hi; i++ {
			e0, e1 := gr.RowPtr[i], gr.RowPtr[i+1]
			if e0 == e1 {
				continue
			}
			items := gr.ColIdx[e0:e1]
			k.gatherMax(ys, arg, x, width, items, int32(e0))
			for _, it := range items {
				clear(dx[int(it)*width : (int(it)+1)*width])
			}
			g := dy[i*width : (i+1)*width]
			for f, t := range arg {
				dx[int(gr.ColIdx[t])*width+f] = g[f]
			}
		}
	})
}
