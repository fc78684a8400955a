package graph

import (
	"fmt"
	"math"
)

// AddSelfLoops returns a square graph in which every node has an edge to itself. Nodes that
// already have a self-loop keep theirs (PyTorch Geometric's add_remaining_self_loops); new loops
// get weight fill when the graph is weighted.
func (g *CSR) AddSelfLoops(fill float32) (*CSR, error) {
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
				col = append(col, int32(i))
				if w != nil {
					w = append(w, fill)
				}
				inserted = true
			}
			col = append(col, g.ColIdx[e])
			if w != nil {
				w = append(w, g.Weights[e])
			}
		}
		if !inserted {
			col = append(col, int32(i))
			if w != nil {
				w = append(w, fill)
			}
		}
		rowPtr[i+1] = len(col)
	}
	return &CSR{NumSrc: n, NumDst: n, RowPtr: rowPtr, ColIdx: col, Weights: w}, nil
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
// it is the mean over in-neighbours.
func (g *CSR) MeanWeights() *CSR {
	w := make([]float32, len(g.ColIdx))
	for i := 0; i < g.NumDst; i++ {
		lo, hi := g.RowPtr[i], g.RowPtr[i+1]
		for e := lo; e < hi; e++ {
			w[e] = 1 / float32(hi-lo)
		}
	}
	return &CSR{NumSrc: g.NumSrc, NumDst: g.NumDst, RowPtr: g.RowPtr, ColIdx: g.ColIdx, Weights: w}
}
