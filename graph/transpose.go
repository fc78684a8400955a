package graph

// Transposed is the reverse of a graph, used by backward passes: the gradient of an aggregation
// with respect to its input is an aggregation over the reversed edges. Graph.RowPtr and
// Graph.ColIdx index the reverse graph by source node of the original (its NumDst is the
// original NumSrc); Edge[t] is the position in the original graph of reverse edge t, so per-edge
// values of the original (weights, attention) are read through it.
type Transposed struct {
	Graph *CSR
	Edge  []int32
}

// Transpose returns the reverse graph, computed once and cached: the graph is immutable, and
// every backward pass of every layer on it needs the same reversal. The returned graph carries the
// original weights and edge attributes permuted into its edge order.
func (g *CSR) Transpose() *Transposed {
	g.transposeOnce.Do(func() { g.transpose = g.buildTranspose() })
	return g.transpose
}

func (g *CSR) buildTranspose() *Transposed {
	m := len(g.ColIdx)
	rowPtr := make([]int, g.NumSrc+1)
	for _, s := range g.ColIdx {
		rowPtr[s+1]++
	}
	for j := 0; j < g.NumSrc; j++ {
		rowPtr[j+1] += rowPtr[j]
	}
	next := make([]int, g.NumSrc)
	copy(next, rowPtr[:g.NumSrc])
	col := make([]int32, m)
	edge := make([]int32, m)
	// Walking destinations in increasing order leaves each reverse row sorted by destination.
	for i := 0; i < g.NumDst; i++ {
		for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
			s := g.ColIdx[e]
			t := next[s]
			col[t] = int32(i)
			edge[t] = int32(e)
			next[s]++
		}
	}
	var w []float32
	if g.Weights != nil {
		w = make([]float32, m)
		for t, e := range edge {
			w[t] = g.Weights[e]
		}
	}
	var attr []float32
	if g.attrDim > 0 {
		attr = permuteRows(g.attr, g.attrDim, edge)
	}
	return &Transposed{
		Graph: &CSR{NumSrc: g.NumDst, NumDst: g.NumSrc, RowPtr: rowPtr, ColIdx: col, Weights: w, attr: attr, attrDim: g.attrDim},
		Edge:  edge,
	}
}
