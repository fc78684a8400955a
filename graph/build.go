package graph

import (
	"fmt"
	"sort"
)

// FromEdges builds a graph from parallel lists of edge sources and destinations (COO form),
// over numNodes nodes: edge k carries a message from src[k] to dst[k]. Duplicate edges are kept
// (they count twice in a sum); use Coalesce to merge them. Edges are reordered by destination and
// source.
func FromEdges(numNodes int, src, dst []int) (*CSR, error) {
	return FromBipartiteEdges(numNodes, numNodes, src, dst)
}

// FromBipartiteEdges is FromEdges where sources and destinations are different node sets, as in
// the blocks of a sampled mini-batch.
func FromBipartiteEdges(numSrc, numDst int, src, dst []int) (*CSR, error) {
	g, _, err := buildCSR(numSrc, numDst, src, dst, false)
	return g, err
}

// buildCSR sorts COO edges into a CSR; with wantPerm it also returns, per position of the result,
// the input edge placed there (duplicates keep their input order).
func buildCSR(numSrc, numDst int, src, dst []int, wantPerm bool) (*CSR, []int32, error) {
	if numSrc < 0 || numDst < 0 {
		return nil, nil, fmt.Errorf("graph: negative node count (%d sources, %d destinations)", numSrc, numDst)
	}
	if numSrc > maxNodes || numDst > maxNodes {
		return nil, nil, fmt.Errorf("graph: %d sources, %d destinations: at most %d nodes fit int32 ids", numSrc, numDst, maxNodes)
	}
	if len(src) != len(dst) {
		return nil, nil, fmt.Errorf("graph: %d edge sources but %d edge destinations", len(src), len(dst))
	}
	for k := range src {
		if src[k] < 0 || src[k] >= numSrc {
			return nil, nil, fmt.Errorf("graph: edge %d (%d -> %d): source node %d out of range [0, %d)", k, src[k], dst[k], src[k], numSrc)
		}
		if dst[k] < 0 || dst[k] >= numDst {
			return nil, nil, fmt.Errorf("graph: edge %d (%d -> %d): destination node %d out of range [0, %d)", k, src[k], dst[k], dst[k], numDst)
		}
	}
	// Counting sort by destination, then sort each row by source.
	rowPtr := make([]int, numDst+1)
	for _, d := range dst {
		rowPtr[d+1]++
	}
	for i := 0; i < numDst; i++ {
		rowPtr[i+1] += rowPtr[i]
	}
	next := make([]int, numDst)
	copy(next, rowPtr[:numDst])
	col := make([]int32, len(src))
	var perm []int32
	if wantPerm {
		perm = make([]int32, len(src))
	}
	for k, d := range dst {
		col[next[d]] = int32(src[k])
		if perm != nil {
			perm[next[d]] = int32(k)
		}
		next[d]++
	}
	for i := 0; i < numDst; i++ {
		row := col[rowPtr[i]:rowPtr[i+1]]
		if perm != nil {
			sortRowWithPerm(row, perm[rowPtr[i]:rowPtr[i+1]])
			continue
		}
		if !sort.SliceIsSorted(row, func(a, b int) bool { return row[a] < row[b] }) {
			sort.Slice(row, func(a, b int) bool { return row[a] < row[b] })
		}
	}
	return &CSR{NumSrc: numSrc, NumDst: numDst, RowPtr: rowPtr, ColIdx: col}, perm, nil
}

// FromAdjacency builds a graph from adjacency lists: adj[i] lists the neighbours whose messages
// node i receives (its in-neighbours). For an undirected graph give each edge in both lists, or
// call Symmetrize. This is the shape of an HNSW layer's neighbour lists.
func FromAdjacency(adj [][]int) (*CSR, error) {
	n := len(adj)
	if n > maxNodes {
		return nil, fmt.Errorf("graph: %d nodes: at most %d fit int32 ids", n, maxNodes)
	}
	rowPtr := make([]int, n+1)
	for i, nb := range adj {
		rowPtr[i+1] = rowPtr[i] + len(nb)
	}
	col := make([]int32, 0, rowPtr[n])
	for i, nb := range adj {
		for _, j := range nb {
			if j < 0 || j >= n {
				return nil, fmt.Errorf("graph: node %d lists neighbour %d, out of range [0, %d)", i, j, n)
			}
			col = append(col, int32(j))
		}
		row := col[rowPtr[i]:]
		if !sort.SliceIsSorted(row, func(a, b int) bool { return row[a] < row[b] }) {
			sort.Slice(row, func(a, b int) bool { return row[a] < row[b] })
		}
	}
	return &CSR{NumSrc: n, NumDst: n, RowPtr: rowPtr, ColIdx: col}, nil
}

// Coalesce returns the graph with duplicate edges merged into one; the weights and the edge
// attribute rows of merged edges are added, as in PyTorch Geometric's coalesce (reduce "add").
func (g *CSR) Coalesce() *CSR { return g.coalesce(false) }

// coalesce merges duplicate edges, adding weights and adding (or, with meanAttr, averaging)
// attribute rows.
func (g *CSR) coalesce(meanAttr bool) *CSR {
	dim := g.attrDim
	var attr []float32
	if dim > 0 {
		attr = make([]float32, 0, len(g.attr))
	}
	count := 0 // edges merged into the last kept one
	finish := func() {
		if meanAttr && count > 1 {
			r := attr[len(attr)-dim:]
			for j := range r {
				r[j] /= float32(count)
			}
		}
	}
	rowPtr := make([]int, g.NumDst+1)
	col := make([]int32, 0, len(g.ColIdx))
	var w []float32
	if g.Weights != nil {
		w = make([]float32, 0, len(g.Weights))
	}
	for i := 0; i < g.NumDst; i++ {
		start := len(col)
		for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
			if len(col) > start && col[len(col)-1] == g.ColIdx[e] {
				if w != nil {
					w[len(w)-1] += g.Weights[e]
				}
				if dim > 0 {
					r := attr[len(attr)-dim:]
					for j, v := range g.attr[e*dim : (e+1)*dim] {
						r[j] += v
					}
				}
				count++
				continue
			}
			finish()
			count = 1
			col = append(col, g.ColIdx[e])
			if w != nil {
				w = append(w, g.Weights[e])
			}
			if dim > 0 {
				attr = append(attr, g.attr[e*dim:(e+1)*dim]...)
			}
		}
		rowPtr[i+1] = len(col)
	}
	finish()
	return &CSR{NumSrc: g.NumSrc, NumDst: g.NumDst, RowPtr: rowPtr, ColIdx: col, Weights: w, attr: attr, attrDim: dim}
}

// Symmetrize returns the undirected version of a square graph: every edge j -> i also appears as
// i -> j, duplicates merged, weights dropped. Citation graphs are used this way. Edge attributes
// are kept: the reverse edge gets the attribute row of its edge, and the rows of merged
// duplicates are averaged (PyTorch Geometric's to_undirected with reduce "mean"), so a graph
// already symmetric keeps its attributes.
func (g *CSR) Symmetrize() (*CSR, error) {
	if g.NumSrc != g.NumDst {
		return nil, fmt.Errorf("graph: cannot symmetrize a bipartite graph (%d sources, %d destinations)", g.NumSrc, g.NumDst)
	}
	m := len(g.ColIdx)
	src := make([]int, 0, 2*m)
	dst := make([]int, 0, 2*m)
	for i := 0; i < g.NumDst; i++ {
		for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
			j := int(g.ColIdx[e])
			src = append(src, j, i)
			dst = append(dst, i, j)
		}
	}
	if g.attrDim == 0 {
		s, err := FromEdges(g.NumDst, src, dst)
		if err != nil {
			return nil, err
		}
		return s.Coalesce(), nil
	}
	dim := g.attrDim
	attr := make([]float32, 0, 2*len(g.attr))
	for e := 0; e < m; e++ {
		r := g.attr[e*dim : (e+1)*dim]
		attr = append(attr, r...)
		attr = append(attr, r...)
	}
	s, err := FromEdgesAttr(g.NumDst, src, dst, attr, dim)
	if err != nil {
		return nil, err
	}
	return s.coalesce(true), nil
}
