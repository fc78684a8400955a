package search

import (
	"math"
	"runtime"
	"slices"

	"github.com/gnnlab/gognn/internal/vecmath"
	"github.com/gnnlab/gognn/ops/asm"
)

// sparseVec is a vector's nonzeros: columns ascending, with their values.
type sparseVec struct {
	Cols []int32
	Vals []float32
}

// sparsify returns the nonzeros of v, in slices of their exact size (growing them by appends
// made several times the garbage: a query vector is sparsified on every search).
func sparsify(v []float32) sparseVec {
	nnz := 0
	for _, x := range v {
		if x != 0 {
			nnz++
		}
	}
	if nnz == 0 {
		return sparseVec{}
	}
	s := sparseVec{Cols: make([]int32, 0, nnz), Vals: make([]float32, 0, nnz)}
	for j, x := range v {
		if x != 0 {
			s.Cols = append(s.Cols, int32(j))
			s.Vals = append(s.Vals, x)
		}
	}
	return s
}

// normalize returns v / |v| by vecmath.Normalize, the function hnsw normalises a Cosine index's
// vectors with, so a query and the stored copy of the same vector are bit-identical.
func normalize(v []float32) []float32 {
	out := make([]float32, len(v))
	vecmath.Normalize(out, v, vecmath.SquaredNorm(v))
	return out
}

// weights is one immutable set of the GNN's parameters, read by the pure-Go forward pass that
// serves queries. Matrices are row-major: W[i*cols+j].
type weights struct {
	D, H  int
	Root  []float32 // D x H, sage_hnsw.lin_r.weight: the node's own features
	HNSW  []float32 // D x H, sage_hnsw.lin_l.weight: mean over HNSW neighbours
	HNSWB []float32 // H,     sage_hnsw.lin_l.bias
	FB    []float32 // D x H, sage_fb.lin_l.weight: mean over feedback neighbours
	FBB   []float32 // H,     sage_fb.lin_l.bias
	Out   []float32 // H x D, out.weight: the residual back to feature space
}

// scratch is the memory one goroutine's forward passes reuse.
type scratch struct {
	h, acc []float32
	sum    []float32 // D: the neighbours' summed features, zero between uses
	cols   []int32   // the columns of sum written, each once
	seen   []bool    // D: marks the columns in cols
}

func newScratch(h int) *scratch { return &scratch{h: make([]float32, h), acc: make([]float32, h)} }

// embed computes the embedding of one node into out (length D, overwritten):
//
//	h   = x W_root + mean_{j in hn} x_j W_hnsw + b_hnsw + mean_{j in fn} x_j W_fb + b_fb
//	out = normalize(x + relu(h) W_out)
//
// where x is the node's (unit-norm, sparse) feature vector, hn its HNSW neighbours and fn its
// feedback neighbours (corpus ids whose features feats holds). A mean over no neighbours is 0.
// It is the same function as the Gorgonia graph that training differentiates (forward in
// model.go); TestForwardAgrees checks that they agree.
func (w *weights) embed(out []float32, sc *scratch, x sparseVec, feats []sparseVec, hn, fn []int32) {
	H := w.H
	h := sc.h
	copy(h, w.HNSWB)
	for k, b := range w.FBB {
		h[k] += b
	}
	for e, c := range x.Cols {
		asm.AxpyF32(x.Vals[e], w.Root[int(c)*H:int(c)*H+H], h)
	}
	w.meanInto(h, sc, w.HNSW, feats, hn)
	w.meanInto(h, sc, w.FB, feats, fn)
	clear(out)
	for e, c := range x.Cols {
		out[c] = x.Vals[e]
	}
	D := w.D
	for k, v := range h {
		if v > 0 {
			asm.AxpyF32(v, w.Out[k*D:k*D+D], out)
		}
	}
	var ss float64
	for _, v := range out {
		ss += float64(v) * float64(v)
	}
	asm.ScaleF32(float32(1/math.Sqrt(ss+1e-24)), out)
}

// meanInto adds mean_{j in nbrs} feats[j] W to h (W of shape D x H), as (sum_j feats[j]) W / |nbrs|:
// the neighbours' features are summed first, so the matrix product is made once per node rather
// than once per neighbour (a node has up to 2M HNSW neighbours). Columns are visited in
// ascending order, so the result depends only on the inputs.
func (w *weights) meanInto(h []float32, sc *scratch, W []float32, feats []sparseVec, nbrs []int32) {
	if len(nbrs) == 0 {
		return
	}
	if len(sc.sum) < w.D {
		sc.sum, sc.seen = make([]float32, w.D), make([]bool, w.D)
	}
	sum, seen, cols := sc.sum, sc.seen, sc.cols[:0]
	for _, j := range nbrs {
		f := feats[j]
		for e, c := range f.Cols {
			if !seen[c] {
				seen[c] = true
				cols = append(cols, c)
			}
			sum[c] += f.Vals[e]
		}
	}
	if 4*len(cols) < w.D {
		slices.Sort(cols)
	} else { // dense: all columns in order
		cols = cols[:0]
		for c := range w.D {
			if seen[c] {
				cols = append(cols, int32(c))
			}
		}
	}
	H := w.H
	acc := sc.acc
	clear(acc)
	for _, c := range cols {
		if v := sum[c]; v != 0 {
			asm.AxpyF32(v, W[int(c)*H:int(c)*H+H], acc)
		}
		sum[c], seen[c] = 0, false
	}
	sc.cols = cols[:0]
	asm.AxpyF32(1/float32(len(nbrs)), acc, h)
}

// embedRows computes the embeddings of the corpus nodes ids into fresh rows of dst (dst[id] is
// replaced, never written through, so a published row stays intact), in parallel over
// GOMAXPROCS goroutines. Each row depends only on its inputs, so the result does not depend on
// the number of goroutines.
func (w *weights) embedRows(dst [][]float32, ids []int, feats []sparseVec, hnsw, fb [][]int32) {
	run := parallel
	if len(ids) < 128 {
		run = nil // one worker: the caller's goroutine, with no handoff to wait for
	}
	w.embedRowsOn(run, runtime.GOMAXPROCS(0), nil, dst, ids, feats, hnsw, fb)
}

// embedRowsOn is embedRows on at most procs goroutines started by run (nil: on the caller's),
// each calling yield (when not nil) every yieldRows rows. A goroutine's rows are cut from one
// allocation: a garbage collector marks one object instead of one per row (100,000 after a
// Train at that size), and a published row is still never written, only replaced.
func (w *weights) embedRowsOn(run func(n int, fn func(p int)), procs int, yield func(), dst [][]float32, ids []int, feats []sparseVec, hnsw, fb [][]int32) {
	workers := max(1, min(procs, len(ids)/64))
	rows := func(p int) {
		lo, hi := p*len(ids)/workers, (p+1)*len(ids)/workers
		sc := newScratch(w.H)
		D := w.D
		slab := make([]float32, (hi-lo)*D)
		for k, id := range ids[lo:hi] {
			if yield != nil && k%yieldRows == yieldRows-1 {
				yield()
			}
			row := slab[k*D : (k+1)*D : (k+1)*D]
			var f []int32
			if id < len(fb) {
				f = fb[id]
			}
			w.embed(row, sc, feats[id], feats, hnsw[id], f)
			dst[id] = row
		}
	}
	if run == nil {
		rows(0)
		return
	}
	run(workers, rows)
}

// embedSome returns the embeddings of the nodes ids, reading a node's features, HNSW and
// feedback neighbours through feat, hn and fn: the state a write is about to publish, as
// overlays on the published tables, so that nothing is copied per node of the corpus. The nodes
// are renumbered into small local tables, lists kept in order, so each row is bit for bit what
// embedRows computes from the full tables.
func (w *weights) embedSome(ids []int, feat func(int32) sparseVec, hn, fn func(int32) []int32) [][]float32 {
	local := make(map[int32]int32, 4*len(ids))
	var lf []sparseVec
	at := func(j int32) int32 {
		if l, ok := local[j]; ok {
			return l
		}
		l := int32(len(lf))
		local[j] = l
		lf = append(lf, feat(j))
		return l
	}
	for _, id := range ids {
		at(int32(id)) // ids get the local numbers 0..len(ids)-1
	}
	remap := func(list []int32) []int32 {
		if len(list) == 0 {
			return nil
		}
		out := make([]int32, len(list))
		for i, j := range list {
			out[i] = at(j)
		}
		return out
	}
	lh, lfb := make([][]int32, len(ids)), make([][]int32, len(ids))
	for k, id := range ids {
		lh[k], lfb[k] = remap(hn(int32(id))), remap(fn(int32(id)))
	}
	rows := make([][]float32, len(ids))
	w.embedRows(rows, seq(len(ids)), lf, lh, lfb)
	return rows
}
