//go:build !gognn_serve

package search

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
	"github.com/gnnlab/gognn/ops"
)

// block is a training mini-batch as one bipartite block (the graph.Block layout: destinations
// are the first sources): destinations are the batch's queries, as new nodes, then the distinct
// corpus nodes to embed; the other sources are their neighbours. It has two edge sets, HNSW (a
// query's nearest candidates, a corpus node's layer-0 neighbours) and feedback, one GraphSAGE
// layer each.
type block struct {
	nq, nDst, nSrc int
	local          map[int32]int // corpus id -> source index
	ids            []int32       // corpus ids of sources nq, nq+1, ...
	aH, aF         *graph.CSR
	lowPriority    bool // gate the inputs through lowPriorityOp (Background.LowPriority)
}

// newBlock builds the block of queries (with their neighbours qn) and corpus nodes dst.
func newBlock(qn [][]int32, dst []int32, nbrs, fb [][]int32) (*block, error) {
	bl := &block{nq: len(qn), local: map[int32]int{}}
	for _, id := range dst {
		bl.node(id)
	}
	bl.nDst = bl.nq + len(bl.ids)
	var hs, hd, fs, fd []int
	for i, nb := range qn {
		for _, j := range nb {
			hs, hd = append(hs, bl.node(j)), append(hd, i)
		}
	}
	for r := 0; r < bl.nDst-bl.nq; r++ {
		id := bl.ids[r]
		for _, j := range nbrs[id] {
			hs, hd = append(hs, bl.node(j)), append(hd, bl.nq+r)
		}
		for _, j := range fb[id] {
			fs, fd = append(fs, bl.node(j)), append(fd, bl.nq+r)
		}
	}
	bl.nSrc = bl.nq + len(bl.ids)
	var err error
	if bl.aH, err = graph.FromBipartiteEdges(bl.nSrc, bl.nDst, hs, hd); err != nil {
		return nil, err
	}
	if bl.aF, err = graph.FromBipartiteEdges(bl.nSrc, bl.nDst, fs, fd); err != nil {
		return nil, err
	}
	return bl, nil
}

// node returns the source index of a corpus id, adding it if new.
func (bl *block) node(id int32) int {
	if l, ok := bl.local[id]; ok {
		return l
	}
	l := bl.nq + len(bl.ids)
	bl.local[id] = l
	bl.ids = append(bl.ids, id)
	return l
}

// embed adds the block's inputs to c (the sources' features sparse, the destinations' dense for
// the skip path), builds the model and returns the destinations' embeddings.
func (bl *block) embed(c *nn.Context, queries []sparseVec, feats []sparseVec, dim, hidden int) (*G.Node, error) {
	row := func(k int) sparseVec {
		if k < bl.nq {
			return queries[k]
		}
		return feats[bl.ids[k-bl.nq]]
	}
	rowPtr := make([]int, bl.nSrc+1)
	nnz := 0
	for k := 0; k < bl.nSrc; k++ {
		nnz += len(row(k).Cols)
	}
	// Sized once: a training step's block holds every source's features, and growing these
	// by appends allocated twice their size per step, the most garbage a server made.
	cols, vals := make([]int32, 0, nnz), make([]float32, 0, nnz)
	xd := tensor.New(tensor.WithShape(bl.nDst, dim), tensor.Of(tensor.Float32))
	dense := xd.Float32s()
	for k := 0; k < bl.nSrc; k++ {
		f := row(k)
		cols, vals = append(cols, f.Cols...), append(vals, f.Vals...)
		rowPtr[k+1] = len(cols)
		if k < bl.nDst {
			for e, col := range f.Cols {
				dense[k*dim+int(col)] = f.Vals[e]
			}
		}
	}
	x, err := nn.NewSparseFeatures(c, bl.nSrc, dim, rowPtr, cols, vals)
	if err != nil {
		return nil, err
	}
	m, err := buildModel(c, dim, hidden)
	if err != nil {
		return nil, err
	}
	xDst := c.Constant("x_dst", xd)
	if bl.lowPriority {
		if x.Values, err = lowPriority(x.Values); err != nil {
			return nil, err
		}
		if xDst, err = lowPriority(xDst); err != nil {
			return nil, err
		}
	}
	return m.forward(c, bl.aH, bl.aF, x, xDst)
}

// step makes one Adam step on a batch of events, on the graph of the features feats and the
// HNSW and feedback lists nbrs and fb, and returns its loss and number of pairs.
func (s *Index) step(batch []*event, feats []sparseVec, nbrs, fb [][]int32) (float64, int, error) {
	b := len(batch)
	qn := make([][]int32, b)
	queries := make([]sparseVec, b)
	var shown []int32
	for i, e := range batch {
		qn[i], queries[i] = e.Nbrs, e.Query
		shown = append(shown, e.Shown...)
	}
	bl, err := newBlock(qn, shown, nbrs, fb)
	if err != nil {
		return 0, 0, err
	}
	bl.lowPriority = s.bg.LowPriority
	c := s.base.Next()
	emb, err := bl.embed(c, queries, feats, s.dim, s.cfg.Hidden)
	if err != nil {
		return 0, 0, err
	}
	nR, local := bl.nDst-b, bl.local

	// Scores of every query against every result of the batch, then the pairs' entries.
	var pi, ni []int32
	for i, e := range batch {
		for a, p := range e.Shown {
			if !e.Relevant[a] {
				continue
			}
			for z, n := range e.Shown {
				if !e.Relevant[z] {
					pi = append(pi, int32(i*nR+local[p]-b))
					ni = append(ni, int32(i*nR+local[n]-b))
				}
			}
		}
	}
	if len(pi) == 0 {
		return 0, 0, fmt.Errorf("a batch without (relevant, irrelevant) pairs")
	}
	loss, err := pairLoss(emb, b, nR, pi, ni, s.cfg.Temperature)
	if err != nil {
		return 0, 0, err
	}
	params := c.Params()
	for i, p := range params {
		if d := p.Value().Data().([]float32); &d[0] != &s.params[i].Data[0] {
			return 0, 0, fmt.Errorf("parameter %s is not bound to the stored tensor", p.Name())
		}
	}
	if _, err := G.Grad(loss, params...); err != nil {
		return 0, 0, err
	}
	var lossVal G.Value
	G.Read(loss, &lossVal)
	vm := G.NewTapeMachine(c.Graph)
	defer vm.Close()
	if err := c.Refresh(); err != nil {
		return 0, 0, err
	}
	if err := vm.RunAll(); err != nil {
		return 0, 0, err
	}
	lv := float64(lossVal.Data().(float32))
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		return 0, 0, fmt.Errorf("loss is %v", lv)
	}
	s.adamT++
	for i, p := range params {
		gv, err := p.Grad()
		if err != nil {
			return 0, 0, fmt.Errorf("gradient of %s: %w", p.Name(), err)
		}
		adamStep(s.params[i], gv.Data().([]float32), s.cfg.LearningRate, s.adamT)
	}
	s.steps.Store(s.adamT)
	return lv, len(pi), nil
}

// pairLoss returns mean_k softplus((S[ni[k]] - S[pi[k]]) / tau) where S is the (b, nR) matrix of
// similarities between the first b rows of emb (queries) and the other nR rows (results),
// flattened row-major.
func pairLoss(emb *G.Node, b, nR int, pi, ni []int32, tau float64) (*G.Node, error) {
	eq, err := rows(emb, 0, b)
	if err != nil {
		return nil, err
	}
	er, err := rows(emb, b, b+nR)
	if err != nil {
		return nil, err
	}
	ert, err := G.Transpose(er)
	if err != nil {
		return nil, err
	}
	sim, err := G.Mul(eq, ert)
	if err != nil {
		return nil, err
	}
	if sim, err = G.Reshape(sim, tensor.Shape{b * nR, 1}); err != nil {
		return nil, err
	}
	sp, err := ops.SumAggregate(gather(b*nR, pi), sim)
	if err != nil {
		return nil, err
	}
	sn, err := ops.SumAggregate(gather(b*nR, ni), sim)
	if err != nil {
		return nil, err
	}
	d, err := G.Sub(sn, sp)
	if err != nil {
		return nil, err
	}
	if d, err = G.Mul(d, G.NewConstant(float32(1/tau))); err != nil {
		return nil, err
	}
	if d, err = G.Softplus(d); err != nil {
		return nil, err
	}
	return G.Mean(d)
}

// rows returns rows lo..hi of a matrix node as a matrix (Gorgonia drops the axis of a one-row
// slice, so that case is reshaped back).
func rows(x *G.Node, lo, hi int) (*G.Node, error) {
	s, err := G.Slice(x, G.S(lo, hi))
	if err != nil || hi-lo != 1 {
		return s, err
	}
	return G.Reshape(s, tensor.Shape{1, x.Shape()[1]})
}

// gather returns the graph whose destination k has the single source idx[k]: summing over it
// picks rows, and its gradient scatters them back.
func gather(numSrc int, idx []int32) *graph.CSR {
	rowPtr := seq(len(idx) + 1)
	return &graph.CSR{NumSrc: numSrc, NumDst: len(idx), RowPtr: rowPtr, ColIdx: idx}
}
