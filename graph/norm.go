package graph

import (
	"fmt"
	"math"
)

// AddSelfLoops returns a square graph in which every node has an edge to itself. Nodes that
// already have a self-loop keep theirs (PyTorch Geometric's add_remaining_self_loops); new loops
// get weight fill when the graph is weighted, and fill in every column of their edge attributes
// when it has attributes (as PyG's fill_value; AddSelfLoopsAttr chooses other fills).
func (g *CSR) AddSelfLoops(fill float32) (*CSR, error) {
	return g.addSelfLoops(fill, AttrFill{Value: []float32{fill}})
}

func (g *CSR) addSelfLoops(fill float32, attrFill AttrFill) (*CSR, error) {
	if g.NumSrc != g.NumDst {
		return nil, fmt.Errorf("graph: self-loops need a square graph, have %d sources and %d destinations", g.NumSrc, g.NumDst)
	}
	n := g.NumDst
	rowPtr := make([]int, n+1)
	col := make([]int32, 0, len(g.ColIdx)+n)
	var w []float32
	if g.Weights != nil {
		w = make([]float32, 0, len(g.ColIdx)+n)
	}
	dim := g.attrDim
	var attr, loop []float32
	if dim > 0 {
		attr = make([]float32, 0, len(g.attr)+n*dim)
		loop = make([]float32, dim)
	}
	addLoop := func(i int) {
		col = append(col, int32(i))
		if w != nil {
			w = append(w, fill)
		}
		if dim > 0 {
			attrFill.row(g, i, loop)
			attr = append(attr, loop...)
		}
	}
	for i := 0; i < n; i++ {
		lo, hi := g.RowPtr[i], g.RowPtr[i+1]
		has := false
		for e := lo; e < hi; e++ {
			if int(g.ColIdx[e]) == i {
				has = true
				break
			}
		}
		inserted := has
		for e := lo; e < hi; e++ {
			if !inserted && int(g.ColIdx[e]) > i {
				addLoop(i)
				inserted = true
			}
			col = append(col, g.ColIdx[e])
			if w != nil {
				w = append(w, g.Weights[e])
			}
			if dim > 0 {
				attr = append(attr, g.attr[e*dim:(e+1)*dim]...)
			}
		}
		if !inserted {
			addLoop(i)
		}
		rowPtr[i+1] = len(col)
	}
	return &CSR{NumSrc: n, NumDst: n, RowPtr: rowPtr, ColIdx: col, Weights: w, attr: attr, attrDim: dim}, nil
}

// GCNNorm returns the graph of Kipf & Welling's propagation rule, D^-1/2 (A+I) D^-1/2: self-loops
// added where missing, then every edge j -> i weighted w_ji / sqrt(d_i d_j), where d is the
// weighted in-degree including the self-loop (unit weights when g has none).
func (g *CSR) GCNNorm() (*CSR, error) {
	a, err := g.AddSelfLoops(1)
	if err != nil {
		return nil, err
	}
	deg := make([]float64, a.NumDst)
	for i := range deg {
		for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
			if a.Weights != nil {
				deg[i] += float64(a.Weights[e])
			} else {
				deg[i]++
			}
		}
	}
	inv := make([]float64, len(deg))
	for i, d := range deg {
		if d > 0 {
			inv[i] = 1 / math.Sqrt(d)
		}
	}
	w := make([]float32, len(a.ColIdx))
	for i := 0; i < a.NumDst; i++ {
		for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
			v := inv[i] * inv[a.ColIdx[e]]
			if a.Weights != nil {
				v *= float64(a.Weights[e])
			}
			w[e] = float32(v)
		}
	}
	a.Weights = w
	return a, nil
}

// MeanWeights returns the graph weighted 1/in-degree on every edge, so that a weighted sum over
// it is the mean over in-neighbours. Edge attributes are kept. It is computed once and cached,
// like Transpose, so every mean aggregation over g shares one weighted graph and its transpose.
func (g *CSR) MeanWeights() *CSR {
	g.meanOnce.Do(func() { g.mean = g.buildMeanWeights() })
	return g.mean
}

func (g *CSR) buildMeanWeights() *CSR {
	w := make([]float32, len(g.ColIdx))
	for i := 0; i < g.NumDst; i++ {
		lo, hi := g.RowPtr[i], g.RowPtr[i+1]
		for e := lo; e < hi; e++ {
			w[e] = 1 / float32(hi-lo)
		}
	}
	return &CSR{NumSrc: g.NumSrc, NumDst: g.NumDst, RowPtr: g.RowPtr, ColIdx: g.ColIdx, Weights: w, attr: g.attr, attrDim: g.attrDim}
}
