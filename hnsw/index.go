package hnsw

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// maxNodes is the largest number of ids an index hands out: ids are stored as int32, and graph.CSR
// numbers nodes with int32 too.
const maxNodes = math.MaxInt32

// Index is an HNSW graph over float32 vectors of one dimension. Create it with New or Load.
//
// Concurrency: Search, Vector, Len, Live, Deleted, Dim and Levels may be called from any number of
// goroutines, also while Add or Delete run. Add, Delete, Layer and Save are serialised with each
// other by an internal lock (they may be called from several goroutines, but run one at a time),
// which is also what makes a build deterministic.
//
// Searches never take a lock per node: a neighbour list is a fixed-size slot of int32 whose count
// and entries are read and written with atomic loads and stores, and only the single writer
// modifies it. A search that reads a list while the writer rewrites it may see a mix of old and
// new entries, all of them valid node ids; this costs at most a little recall for that search.
// The tables are reallocated (doubling) under an exclusive lock that waits for running searches.
// Update overwrites a vector without that lock: it first unlinks the node, so that no search
// starting afterwards can reach it, then waits for the searches that started before (counted
// per epoch, a grace period as in read-copy-update), while new searches go on.
type Index struct {
	cfg     Config
	m, m0   int // most neighbours kept on layers > 0 and on layer 0 (2*M)
	stride  int // m+1: an upper-layer slot holds the count and m ids
	stride0 int // m0+1
	mL      float64

	writeMu sync.Mutex   // serialises Add, Delete, Layer and Save
	mu      sync.RWMutex // shared by searches, exclusive while the tables grow
	vecMu   sync.RWMutex // shared by Vector, exclusive while Update overwrites a vector
	readers readers      // the searches running, which Update waits for before overwriting

	// Tables with one entry per id up to the capacity len(levels). The writer fills a new id's
	// entries before any list refers to it; lists publish ids with atomic stores.
	vecs    []float32 // vector of node i at [i*Dim, (i+1)*Dim)
	links0  []int32   // layer-0 slot of node i at [i*stride0, (i+1)*stride0): count, then ids
	upper   [][]int32 // slots of layers 1..level(i), slot l at [(l-1)*stride, l*stride)
	levels  []uint8   // top layer of each node
	deleted []uint32  // 1 for a tombstone (atomic)

	n    atomic.Int64  // ids handed out
	nDel atomic.Int64  // tombstones
	top  atomic.Uint64 // entry point (low 32 bits, int32, -1 when empty) and its level (high 32)

	// Writer state, guarded by writeMu.
	pcg *rand.PCG
	rng *rand.Rand
	rev [][][]int32 // rev[v][l]: nodes whose layer-l list holds v; built by the first Delete
	w   scratch     // the writer's search memory
	wq  []float32
	sel [][]cand // chosen neighbours per layer of the node being inserted
	tmp []cand
	out []cand
	prn []cand
	old []int32

	pool sync.Pool // *scratch for Search

	owner   atomic.Pointer[string] // set by Own: the wrapper that alone may change the index
	touched map[int32]bool         // nodes whose layer-0 list changed since Writer.Changed; nil when unowned
}

// Result is one neighbour found by Search: its id and its distance to the query under the index's
// metric.
type Result struct {
	ID   int
	Dist float32
}

// New returns an empty index with the given parameters (see Config for defaults and limits).
func New(cfg Config) (*Index, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ix := newIndex(cfg)
	ix.storeTop(-1, 0)
	return ix, nil
}

func newIndex(cfg Config) *Index {
	ix := &Index{cfg: cfg, m: cfg.M, m0: 2 * cfg.M, mL: levelMult(cfg.M)}
	ix.stride, ix.stride0 = ix.m+1, ix.m0+1
	ix.pcg = rand.NewPCG(cfg.Seed, 0x853c49e6748fea9b)
	ix.rng = rand.New(ix.pcg)
	ix.pool.New = func() any { return new(scratch) }
	ix.readers.done = make(chan struct{}, 1)
	return ix
}

// Config returns the index's parameters, defaults filled in.
func (ix *Index) Config() Config { return ix.cfg }

// Dim returns the vector dimension.
func (ix *Index) Dim() int { return ix.cfg.Dim }

// Len returns the number of ids handed out by Add, deleted ones included: ids are 0..Len()-1.
func (ix *Index) Len() int { return int(ix.n.Load()) }

// Live returns the number of vectors not deleted.
func (ix *Index) Live() int { return int(ix.n.Load() - ix.nDel.Load()) }

// Levels returns the number of layers, 1 + the top layer of the entry point; 0 for an index with
// no live node.
func (ix *Index) Levels() int {
	e, l := ix.loadTop()
	if e < 0 {
		return 0
	}
	return l + 1
}

// Deleted reports whether id was deleted. It reports false for ids out of range.
func (ix *Index) Deleted(id int) bool {
	if id < 0 || id >= ix.Len() {
		return false
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.isDeleted(int32(id))
}

// Vector returns a copy of the vector stored for id, deleted or not. For the Cosine metric it is
// the normalised vector, which is what the index stores.
func (ix *Index) Vector(id int) ([]float32, error) {
	if n := ix.Len(); id < 0 || id >= n {
		return nil, fmt.Errorf("hnsw: Vector: id %d out of range [0, %d)", id, n)
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ix.vecMu.RLock()
	defer ix.vecMu.RUnlock()
	return append([]float32(nil), ix.vec(int32(id))...), nil
}

// Add inserts vec (copied; normalised for Cosine) and returns its id, which is Len() before the
// call. It implements Algorithm 1 of Malkov & Yashunin: the node's level is
// floor(-ln(U) * mL) with U uniform in (0, 1] from the seeded generator and mL = 1/ln(M); from the
// entry point a greedy search descends to that level, then on each layer l <= level a search with
// efConstruction candidates finds the neighbours, the heuristic (Algorithm 4) keeps M of them,
// and each chosen neighbour links back, re-running the heuristic when its list is full
// (M on layers > 0, 2*M on layer 0).
//
// The node becomes visible to searches only once all its own lists are set, layer 0 first.
//
// Once the index is owned (Own), Add returns an error: add through the owner.
func (ix *Index) Add(vec []float32) (int, error) {
	if err := ix.checkUnowned("Add"); err != nil {
		return -1, err
	}
	return ix.add(vec)
}

func (ix *Index) add(vec []float32) (int, error) {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	v, err := prepare(ix.cfg.Metric, ix.cfg.Dim, vec, "Add: vector", ix.wq)
	if err != nil {
		return -1, err
	}
	ix.wq = v
	id := int(ix.n.Load())
	if id >= maxNodes {
		return -1, fmt.Errorf("hnsw: Add: index is full (%d ids)", id)
	}
	ix.reserve(id + 1)
	level := ix.randomLevel()
	copy(ix.vecs[id*ix.cfg.Dim:], v)
	ix.levels[id] = uint8(level)
	if level > 0 {
		ix.upper[id] = make([]int32, level*ix.stride)
	}
	if ix.rev != nil {
		ix.rev = append(ix.rev, make([][]int32, level+1))
	}
	// Publish the id before linking: a search can return the node as soon as a list holds it,
	// and Len, Vector and Deleted must already know it then.
	ix.n.Store(int64(id + 1))
	ix.insert(int32(id), level)
	return id, nil
}

// randomLevel draws floor(-ln(U) * mL), U uniform in (0, 1].
func (ix *Index) randomLevel() int {
	u := 1 - ix.rng.Float64()
	l := int(-math.Log(u) * ix.mL)
	return min(l, maxLevel)
}

// reserve grows the tables to hold n ids, doubling the capacity.
func (ix *Index) reserve(n int) {
	if n <= len(ix.levels) {
		return
	}
	c := max(n, 2*len(ix.levels), 64)
	c = min(c, maxNodes)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.vecs = grow(ix.vecs, c*ix.cfg.Dim)
	ix.links0 = grow(ix.links0, c*ix.stride0)
	ix.upper = grow(ix.upper, c)
	ix.levels = grow(ix.levels, c)
	ix.deleted = grow(ix.deleted, c)
}

func grow[T any](s []T, n int) []T {
	t := make([]T, n)
	_ = adviseHugePages(t) // before the copy touches it; 4 KB pages otherwise, only slower
	copy(t, s)
	return t
}

func (ix *Index) loadTop() (entry int32, level int) {
	t := ix.top.Load()
	return int32(uint32(t)), int(t >> 32)
}

func (ix *Index) storeTop(entry int32, level int) {
	ix.top.Store(uint64(uint32(entry)) | uint64(level)<<32)
}

func (ix *Index) vec(id int32) []float32 {
	d := ix.cfg.Dim
	o := int(id) * d
	return ix.vecs[o : o+d : o+d]
}

func (ix *Index) isDeleted(id int32) bool { return atomic.LoadUint32(&ix.deleted[id]) != 0 }

// slot returns node id's list on layer l: slot[0] is the count, slot[1:1+count] the ids. It is
// empty when the node is not on layer l.
func (ix *Index) slot(id int32, l int) []int32 {
	if l == 0 {
		o := int(id) * ix.stride0
		return ix.links0[o : o+ix.stride0]
	}
	u := ix.upper[id]
	o := (l - 1) * ix.stride
	if o+ix.stride > len(u) {
		return nil
	}
	return u[o : o+ix.stride]
}

// readLinks copies node id's neighbours on layer l into buf.
func (ix *Index) readLinks(id int32, l int, buf []int32) []int32 {
	s := ix.slot(id, l)
	if len(s) == 0 {
		return buf[:0]
	}
	n := int(atomic.LoadInt32(&s[0]))
	n = min(n, len(s)-1)
	if cap(buf) < n {
		buf = make([]int32, n, len(s)-1)
	}
	buf = buf[:n]
	for i := range buf {
		buf[i] = atomic.LoadInt32(&s[1+i])
	}
	return buf
}

// maxLinks returns the capacity of a list on layer l.
func (ix *Index) maxLinks(l int) int {
	if l == 0 {
		return ix.m0
	}
	return ix.m
}

// setLinks replaces node u's list on layer l by the ids of c (writer only), keeping the reverse
// lists up to date when they exist.
func (ix *Index) setLinks(u int32, l int, c []cand) {
	s := ix.slot(u, l)
	if ix.rev != nil {
		ix.old = ix.readLinks(u, l, ix.old)
	}
	for i, x := range c {
		atomic.StoreInt32(&s[1+i], x.id)
	}
	atomic.StoreInt32(&s[0], int32(len(c)))
	ix.touch(u, l)
	if ix.rev == nil {
		return
	}
	for _, x := range ix.old {
		if !hasID(c, x) {
			ix.revRemove(x, l, u)
		}
	}
	for _, x := range c {
		if !containsID(ix.old, x.id) {
			ix.rev[x.id][l] = append(ix.rev[x.id][l], u)
		}
	}
}

// appendLink adds v to u's list on layer l, which must have room (writer only).
func (ix *Index) appendLink(u int32, l int, v int32) {
	s := ix.slot(u, l)
	n := atomic.LoadInt32(&s[0])
	atomic.StoreInt32(&s[1+n], v)
	atomic.StoreInt32(&s[0], n+1)
	ix.touch(u, l)
	if ix.rev != nil {
		ix.rev[v][l] = append(ix.rev[v][l], u)
	}
}

func (ix *Index) revRemove(v int32, l int, u int32) {
	r := ix.rev[v][l]
	for i, x := range r {
		if x == u {
			r[i] = r[len(r)-1]
			ix.rev[v][l] = r[:len(r)-1]
			return
		}
	}
}

func hasID(c []cand, id int32) bool {
	for _, x := range c {
		if x.id == id {
			return true
		}
	}
	return false
}

func containsID(s []int32, id int32) bool {
	for _, x := range s {
		if x == id {
			return true
		}
	}
	return false
}

// insert links the new node id, whose vector and level are in place (writer only).
func (ix *Index) insert(id int32, level int) {
	entry, top := ix.loadTop()
	if entry < 0 {
		ix.storeTop(id, level)
		return
	}
	q := ix.vec(id)
	s := &ix.w
	ep := cand{distance(ix.cfg.Metric, q, ix.vec(entry)), entry}
	for l := top; l > level; l-- {
		ep = ix.greedy(s, q, ep, l)
	}
	s.eps = append(s.eps[:0], ep)
	hi := min(level, top)
	for len(ix.sel) <= hi {
		ix.sel = append(ix.sel, nil)
	}
	// Choose the node's neighbours on every layer before linking back, so that a search reaching
	// the node on any layer finds all its lists complete.
	for l := hi; l >= 0; l-- {
		ix.searchLayer(s, q, s.eps, ix.cfg.EfConstruction, l)
		w := s.sorted()
		ix.sel[l] = append(ix.sel[l][:0], ix.heuristic(w, ix.m)...)
		ix.setLinks(id, l, ix.sel[l])
		s.eps = append(s.eps[:0], w...) // W is the entry set of the next layer
	}
	for l := 0; l <= hi; l++ {
		for _, c := range ix.sel[l] {
			ix.linkBack(c.id, id, c.dist, l)
		}
	}
	if level > top {
		ix.storeTop(id, level)
	}
}

// linkBack adds v (at distance d from u) to u's list on layer l; when the list is full the
// heuristic chooses among the old neighbours and v.
func (ix *Index) linkBack(u, v int32, d float32, l int) {
	s := ix.slot(u, l)
	n := int(atomic.LoadInt32(&s[0]))
	mx := ix.maxLinks(l)
	if n < mx {
		ix.appendLink(u, l, v)
		return
	}
	uv := ix.vec(u)
	c := append(ix.tmp[:0], cand{d, v})
	for i := 1; i <= n; i++ {
		x := atomic.LoadInt32(&s[i])
		c = append(c, cand{distance(ix.cfg.Metric, uv, ix.vec(x)), x})
	}
	sortCands(c)
	ix.tmp = c
	ix.setLinks(u, l, ix.heuristic(c, mx))
}

// heuristic is Algorithm 4 of Malkov & Yashunin without extendCandidates, as in hnswlib: going
// through the candidates c (sorted by distance to the base node, closest first) it keeps c only
// if c is closer to the base than to every neighbour kept so far,
//
//	keep c  iff  d(c, base) <= d(c, r) for all kept r,
//
// until m are kept. Fewer than m candidates are all kept. With Config.KeepPruned the closest
// discarded candidates then fill the list up to m. The result aliases the index's scratch.
func (ix *Index) heuristic(c []cand, m int) []cand {
	fill := 0
	if ix.cfg.KeepPruned {
		fill = m
	}
	return ix.heuristicFill(c, m, fill)
}

// heuristicFill is the heuristic choosing up to m candidates, after which the closest pruned ones
// are added until the list holds fill (<= m). Delete uses it to fill a repaired node's list.
func (ix *Index) heuristicFill(c []cand, m, fill int) []cand {
	if len(c) < m {
		return append(ix.out[:0], c...)
	}
	out, prn := ix.out[:0], ix.prn[:0]
	for _, x := range c {
		if len(out) >= m {
			break
		}
		xv := ix.vec(x.id)
		good := true
		for _, r := range out {
			if distance(ix.cfg.Metric, xv, ix.vec(r.id)) < x.dist {
				good = false
				break
			}
		}
		if good {
			out = append(out, x)
		} else {
			prn = append(prn, x)
		}
	}
	for _, x := range prn {
		if len(out) >= fill {
			break
		}
		out = append(out, x)
	}
	ix.out, ix.prn = out, prn
	return out
}
