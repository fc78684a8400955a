package graph

import (
	"fmt"
	"sync"
)

// CSR is a directed graph stored by destination: the in-edges of destination node i are the
// positions RowPtr[i] <= e < RowPtr[i+1], each with source node ColIdx[e] and, when Weights is
// not nil, weight Weights[e]. Messages flow from ColIdx[e] to i, so a neighbour aggregation
// computes out[i] = agg_{e in row i} Weights[e] * x[ColIdx[e]].
//
// Sources and destinations may be different node sets (a bipartite block from neighbour
// sampling): sources are numbered 0..NumSrc-1 and destinations 0..NumDst-1. For an ordinary graph
// NumSrc == NumDst.
//
// Edges are sorted by destination and, within a row, by source; edge e keeps its position for
// the life of the graph, so per-edge tensors (attention scores, learned edge weights) are indexed
// by it. Edge attributes, when present (EdgeAttr), are an (E, dim) matrix in the same order. A
// CSR is immutable once built and safe for concurrent use.
type CSR struct {
	NumSrc, NumDst int
	RowPtr         []int
	ColIdx         []int32
	Weights        []float32

	attr    []float32 // (E, attrDim) row-major edge attributes; attrDim 0 when none
	attrDim int

	transposeOnce sync.Once
	transpose     *Transposed
	meanOnce      sync.Once
	mean          *CSR
}

// NumEdges returns the number of edges.
func (g *CSR) NumEdges() int { return len(g.ColIdx) }

// Row returns the sources and (nil when the graph is unweighted) weights of the in-edges of
// destination i.
func (g *CSR) Row(i int) (src []int32, w []float32) {
	lo, hi := g.RowPtr[i], g.RowPtr[i+1]
	if g.Weights != nil {
		w = g.Weights[lo:hi:hi]
	}
	return g.ColIdx[lo:hi:hi], w
}

// InDegrees returns, per destination, the number of in-edges.
func (g *CSR) InDegrees() []int {
	d := make([]int, g.NumDst)
	for i := range d {
		d[i] = g.RowPtr[i+1] - g.RowPtr[i]
	}
	return d
}

// OutDegrees returns, per source, the number of out-edges.
func (g *CSR) OutDegrees() []int {
	d := make([]int, g.NumSrc)
	for _, s := range g.ColIdx {
		d[s]++
	}
	return d
}

// Validate checks the structural invariants a hand-built CSR must satisfy: sizes, monotone
// row pointers, sources in range and sorted within each row, finite weights. Builders in this
// package always produce valid graphs; Validate is for CSRs assembled by hand or read from disk.
func (g *CSR) Validate() error {
	if g.NumSrc < 0 || g.NumDst < 0 {
		return fmt.Errorf("graph: negative node count (%d sources, %d destinations)", g.NumSrc, g.NumDst)
	}
	if g.NumSrc > maxNodes || g.NumDst > maxNodes {
		return fmt.Errorf("graph: %d sources, %d destinations: at most %d nodes fit int32 ids", g.NumSrc, g.NumDst, maxNodes)
	}
	if len(g.RowPtr) != g.NumDst+1 {
		return fmt.Errorf("graph: RowPtr has %d entries, want NumDst+1 = %d", len(g.RowPtr), g.NumDst+1)
	}
	if g.RowPtr[0] != 0 {
		return fmt.Errorf("graph: RowPtr[0] = %d, want 0", g.RowPtr[0])
	}
	if g.RowPtr[g.NumDst] != len(g.ColIdx) {
		return fmt.Errorf("graph: RowPtr[%d] = %d but there are %d edges", g.NumDst, g.RowPtr[g.NumDst], len(g.ColIdx))
	}
	if g.Weights != nil && len(g.Weights) != len(g.ColIdx) {
		return fmt.Errorf("graph: %d weights for %d edges", len(g.Weights), len(g.ColIdx))
	}
	if g.attrDim > 0 {
		if err := checkAttr(len(g.ColIdx), g.attr, g.attrDim); err != nil {
			return err
		}
	}
	for i := 0; i < g.NumDst; i++ {
		lo, hi := g.RowPtr[i], g.RowPtr[i+1]
		if hi < lo || hi > len(g.ColIdx) {
			return fmt.Errorf("graph: RowPtr[%d..%d] = %d..%d is not monotone within [0, %d]", i, i+1, lo, hi, len(g.ColIdx))
		}
		for e := lo; e < hi; e++ {
			s := g.ColIdx[e]
			if s < 0 || int(s) >= g.NumSrc {
				return fmt.Errorf("graph: edge %d (%d -> %d): source out of range [0, %d)", e, s, i, g.NumSrc)
			}
			if e > lo && s < g.ColIdx[e-1] {
				return fmt.Errorf("graph: edge %d (%d -> %d): sources of node %d not sorted", e, s, i, i)
			}
			if g.Weights != nil && !isFinite(g.Weights[e]) {
				return fmt.Errorf("graph: edge %d (%d -> %d): weight %v is not finite", e, s, i, g.Weights[e])
			}
		}
	}
	return nil
}

// WithWeights returns a graph with the same edges (and edge attributes) and the given per-edge
// weights (in edge order). The structure is shared, not copied.
func (g *CSR) WithWeights(w []float32) (*CSR, error) {
	if len(w) != len(g.ColIdx) {
		return nil, fmt.Errorf("graph: %d weights for %d edges", len(w), len(g.ColIdx))
	}
	for e, v := range w {
		if !isFinite(v) {
			return nil, fmt.Errorf("graph: weight of edge %d is %v, want a finite number", e, v)
		}
	}
	return &CSR{NumSrc: g.NumSrc, NumDst: g.NumDst, RowPtr: g.RowPtr, ColIdx: g.ColIdx, Weights: w, attr: g.attr, attrDim: g.attrDim}, nil
}

// Dst returns the destination of every edge, in edge order (the COO row index).
func (g *CSR) Dst() []int32 {
	d := make([]int32, len(g.ColIdx))
	for i := 0; i < g.NumDst; i++ {
		for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
			d[e] = int32(i)
		}
	}
	return d
}

// String describes the graph's size.
func (g *CSR) String() string {
	if g.attrDim > 0 {
		return fmt.Sprintf("CSR(%d src, %d dst, %d edges, weighted=%t, edge attributes of width %d)", g.NumSrc, g.NumDst, len(g.ColIdx), g.Weights != nil, g.attrDim)
	}
	return fmt.Sprintf("CSR(%d src, %d dst, %d edges, weighted=%t)", g.NumSrc, g.NumDst, len(g.ColIdx), g.Weights != nil)
}

const maxNodes = 1<<31 - 1

func isFinite(v float32) bool { return v-v == 0 }
