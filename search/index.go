package search

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/ops/asm"
)

// Index answers nearest-neighbour queries with HNSW candidates re-ranked by GNN embeddings, and
// learns from feedback on its results. Create it with New (around a built hnsw.Index) or Load.
//
// Concurrency: Search, Baseline and Feedback may be called from any number of goroutines, also
// while Train or Add run: searches see the previous model until the new one is complete and is
// swapped in. Add, Delete and Update (and Batches of them) run one at a time, also while Train runs (they do not wait
// for its optimiser steps nor its re-embedding); Train, SetWeights and Save run one at a time,
// and Save waits for writes. Wrapping takes ownership
// of the hnsw.Index (hnsw.Index.Own): Add, Delete and Update called on it directly return an
// error from then on, since the GNN's graph would no longer match it; change it through this
// Index.
type Index struct {
	cfg Config
	ix  *hnsw.Index
	wr  *hnsw.Writer
	dim int

	// learnMu serialises Train, SetWeights, SetBackground, Weights, Save and SaveTo: the
	// parameters, Adam's state, the generator and bg change only under it. It is taken before
	// trainMu.
	learnMu sync.Mutex
	bg      Background
	// Graph state: changed only with trainMu held, by Add, Delete, Update and Train (Save holds
	// it to read), and only they change the serving state below (under mu), so they may read it
	// without mu. Train releases it while it learns and re-embeds the corpus; see reembed.
	trainMu sync.Mutex
	// during and duringGone are non-nil while Train re-embeds without trainMu: refresh adds the
	// nodes it re-embedded and the ids it deleted or forgot, for Train to redo.
	during     map[int]bool
	duringGone map[int32]bool
	base       *trainContext // learnMu
	params     []*param      // learnMu
	adamT      int64         // learnMu
	steps      atomic.Int64  // adamT, for Stats
	pcg        *rand.PCG     // learnMu
	rng        *rand.Rand    // learnMu
	out0       [][]int32     // the HNSW layer-0 lists as the last refresh saw them (directed)
	free       []int         // deleted ids, reused by Add from the end

	// Serving state, read under mu (shared) and changed under mu (exclusive). Rows are
	// immutable: a write replaces the rows it changes in place in these tables, and Train swaps
	// in whole new tables, so a copy of a table (Train's) stays as it was.
	mu    sync.RWMutex
	w     *weights
	feats []sparseVec // unit-norm features of the corpus nodes (the index's stored vectors)
	nbrs  [][]int32   // symmetrised HNSW layer-0 neighbours, ascending
	fb    [][]int32   // feedback neighbours, oldest first
	emb   [][]float32 // unit-norm GNN embeddings

	bufMu sync.Mutex
	buf   replay
}

// Query is a search request.
type Query struct {
	// Vector is the query, of the index's dimension, finite and not zero.
	Vector []float32
	// Exclude lists ids never to return, such as the query's own id when it is a corpus vector.
	Exclude []int
	// Candidates overrides Config.Candidates for this query: the number of HNSW candidates
	// re-ranked (the ef of the HNSW search), 0 for the default, at most MaxCandidates. Feedback
	// must be given the same Query as the search it judges.
	Candidates int
}

// numCandidates returns the query's candidate count, checked.
func (s *Index) numCandidates(q Query, k int) (int, error) {
	c := s.cfg.Candidates
	if q.Candidates != 0 {
		c = q.Candidates
	}
	if c < 1 || c > MaxCandidates {
		return 0, fmt.Errorf("search: Query.Candidates = %d: want 0 (Config.Candidates = %d) or 1..%d", q.Candidates, s.cfg.Candidates, MaxCandidates)
	}
	if k < 1 || k > c {
		return 0, fmt.Errorf("search: k = %d: want 1 <= k <= the candidates re-ranked (Config.Candidates = %d unless the query sets its own)", k, c)
	}
	return c, nil
}

// Result is one search hit.
type Result struct {
	ID int
	// Score is the cosine similarity of the query's and the result's GNN embeddings; results
	// are sorted by it, largest first (ties by Dist, then ID).
	Score float32
	// Dist is the HNSW distance, 1 - cosine similarity of the raw vectors.
	Dist float32
}

// New wraps ix, an index built with the Cosine metric, and embeds its vectors with an untrained
// GNN, whose rankings equal the HNSW ranking of the same candidates (the residual branch starts
// at zero). From now on add vectors through Index.Add.
func New(ix *hnsw.Index, cfg Config) (*Index, error) {
	if ix == nil {
		return nil, fmt.Errorf("search: New needs an hnsw.Index")
	}
	if m := ix.Config().Metric; m != hnsw.Cosine {
		return nil, fmt.Errorf("search: the index ranks by %v; the GNN re-ranks by cosine similarity, so build it with Metric: hnsw.Cosine", m)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s, err := newIndex(ix, cfg)
	if err != nil {
		return nil, err
	}
	s.w = snapshot(s.params, s.dim, cfg.Hidden)
	s.fb = make([][]int32, len(s.feats))
	s.emb = make([][]float32, len(s.feats))
	s.w.embedRows(s.emb, seq(len(s.feats)), s.feats, s.nbrs, s.fb)
	return s, nil
}

// newIndex sets up everything but the weights snapshot, feedback lists and embeddings.
func newIndex(ix *hnsw.Index, cfg Config) (*Index, error) {
	s := &Index{cfg: cfg, ix: ix, dim: ix.Dim()}
	n := ix.Len()
	s.feats = make([]sparseVec, n)
	for i := range s.feats {
		if ix.Deleted(i) {
			continue // no one's neighbour: no features needed
		}
		v, err := ix.Vector(i)
		if err != nil {
			return nil, err
		}
		s.feats[i] = sparsify(v)
	}
	var err error
	if s.nbrs, err = layer0(ix); err != nil {
		return nil, err
	}
	if s.base, err = newTrainContext(cfg.Seed); err != nil {
		return nil, err
	}
	if s.params, err = newParams(s.base, s.dim, cfg.Hidden); err != nil {
		return nil, err
	}
	s.pcg = rand.NewPCG(cfg.Seed, 0x5ea4c4)
	s.rng = rand.New(s.pcg)
	s.buf.cap = cfg.BufferSize
	s.buf.pendingCap = cfg.pendingLimit()
	// Own last: a failed New leaves the index unowned.
	if s.wr, err = ix.Own("search.Index"); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	s.out0 = make([][]int32, n)
	for i := range s.out0 {
		if s.out0[i], err = s.wr.Neighbours(i); err != nil {
			return nil, err
		}
		if ix.Deleted(i) {
			s.free = append(s.free, i)
		}
	}
	return s, nil
}

// layer0 returns the index's layer 0, symmetrised, as neighbour lists.
func layer0(ix *hnsw.Index) ([][]int32, error) {
	n := ix.Len()
	rows := make([][]int32, n)
	if ix.Levels() == 0 {
		return rows, nil
	}
	g, err := ix.Layer(0)
	if err != nil {
		return nil, err
	}
	if g, err = g.Symmetrize(); err != nil {
		return nil, err
	}
	for i := 0; i < min(n, g.NumDst); i++ {
		src, _ := g.Row(i)
		if len(src) > 0 {
			rows[i] = slices.Clone(src)
		}
	}
	return rows, nil
}

// liveIDs returns the ids not deleted, ascending (trainMu held).
func (s *Index) liveIDs() []int {
	ids := make([]int, 0, s.ix.Live())
	for i := range s.feats {
		if !s.ix.Deleted(i) {
			ids = append(ids, i)
		}
	}
	return ids
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// Config returns the re-ranker's parameters, defaults filled in.
func (s *Index) Config() Config { return s.cfg }

// Dim returns the vector dimension.
func (s *Index) Dim() int { return s.dim }

// Len returns the number of ids handed out, deleted ones included; ids are 0..Len()-1.
func (s *Index) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.emb)
}

// Live returns the number of vectors not deleted.
func (s *Index) Live() int { return s.ix.Live() }

// Vector returns a copy of the stored (unit-norm) vector of id.
func (s *Index) Vector(id int) ([]float32, error) {
	v, err := s.ix.Vector(id)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return v, nil
}

// Deleted reports whether id is a deleted vector (false for ids out of range).
func (s *Index) Deleted(id int) bool { return s.ix.Deleted(id) }

// checkVector reports an error naming what unless v has the index's dimension, is finite and is
// not zero.
func (s *Index) checkVector(v []float32, what string) error {
	if len(v) != s.dim {
		return fmt.Errorf("search: %s has dimension %d, the index's is %d", what, len(v), s.dim)
	}
	var sq float64
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("search: %s has %v at position %d; vectors must be finite", what, x, i)
		}
		sq += float64(x) * float64(x)
	}
	if sq == 0 {
		return fmt.Errorf("search: %s is the zero vector, which has no cosine similarity", what)
	}
	return nil
}

// checkQuery validates q against a corpus of n vectors and returns its exclusion set.
func (s *Index) checkQuery(q Query, n int) (map[int]bool, error) {
	if err := s.checkVector(q.Vector, "query vector"); err != nil {
		return nil, err
	}
	excl := make(map[int]bool, len(q.Exclude))
	for _, id := range q.Exclude {
		if id < 0 || id >= n {
			return nil, fmt.Errorf("search: Query.Exclude lists id %d, not in the index (ids 0..%d)", id, n-1)
		}
		excl[id] = true
	}
	return excl, nil
}

// candidates returns the query's HNSW candidates: the Candidates nearest live vectors (ef =
// Candidates), excluded ids, deleted ids and ids not yet embedded (added while the search ran)
// removed. The HNSW search, the long part, runs without mu (the HNSW index is safe for
// concurrent use); mu is taken shared afterwards for filtering, and is held on return: the
// caller reads the serving state and then unlocks. Holding it only for that keeps a write's
// exclusive lock from waiting for whole searches, and new searches from waiting behind it.
func (s *Index) candidates(q []float32, excl map[int]bool, c int) ([]hnsw.Result, error) {
	k := c + len(excl)
	res, err := s.ix.Search(q, k, k)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	s.mu.RLock()
	out := res[:0]
	for _, r := range res {
		if !excl[r.ID] && r.ID < len(s.emb) && s.emb[r.ID] != nil {
			out = append(out, r)
		}
	}
	return out[:min(len(out), c)], nil
}

// Search returns the k best of the query's HNSW candidates by GNN embedding: the query joins
// the graph as a new node linked to its QueryDegree nearest candidates, the same GNN layer that
// embedded the corpus embeds it, and the candidates are sorted by the cosine similarity of the
// embeddings. 1 <= k <= Config.Candidates.
func (s *Index) Search(q Query, k int) ([]Result, error) {
	nc, err := s.numCandidates(q, k)
	if err != nil {
		return nil, err
	}
	excl, err := s.checkQuery(q, s.Len())
	if err != nil {
		return nil, err
	}
	cands, err := s.candidates(q.Vector, excl, nc)
	if err != nil {
		return nil, err
	}
	eq := s.embedQuery(q.Vector, cands)
	out := make([]Result, len(cands))
	for i, c := range cands {
		out[i] = Result{ID: c.ID, Score: asm.DotF32(eq, s.emb[c.ID]), Dist: c.Dist}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Result) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Dist, b.Dist); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out[:min(k, len(out))], nil
}

// embedQuery embeds a query vector as a new node whose neighbours are its nearest candidates
// (mu held).
func (s *Index) embedQuery(v []float32, cands []hnsw.Result) []float32 {
	eq := make([]float32, s.dim)
	s.w.embed(eq, newScratch(s.cfg.Hidden), sparsify(normalize(v)), s.feats, queryNeighbours(cands, s.cfg.QueryDegree), nil)
	return eq
}

func queryNeighbours(cands []hnsw.Result, degree int) []int32 {
	nb := make([]int32, min(degree, len(cands)))
	for i := range nb {
		nb[i] = int32(cands[i].ID)
	}
	return nb
}

// Baseline returns the k nearest of the same HNSW candidates by their HNSW distance alone: plain
// HNSW search with ef = Config.Candidates, for comparison with Search.
func (s *Index) Baseline(q Query, k int) ([]Result, error) {
	nc, err := s.numCandidates(q, k)
	if err != nil {
		return nil, err
	}
	excl, err := s.checkQuery(q, s.Len())
	if err != nil {
		return nil, err
	}
	cands, err := s.candidates(q.Vector, excl, nc)
	if err != nil {
		return nil, err
	}
	s.mu.RUnlock()
	out := make([]Result, min(k, len(cands)))
	for i := range out {
		out[i] = Result{ID: cands[i].ID, Score: 1 - cands[i].Dist, Dist: cands[i].Dist}
	}
	return out, nil
}
