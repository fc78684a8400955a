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
	if numSrc < 0 || numDst < 0 {
		return nil, fmt.Errorf("graph: negative node count (%d sources, %d destinations)", numSrc, numDst)
	}
	if numSrc > maxNodes || numDst > maxNodes {
		return nil, fmt.Errorf("graph: %d sources, %d destinations: at most %d nodes fit int32 ids", numSrc, numDst, maxNodes)
	}
	if len(src) != len(dst) {
		return nil, fmt.Errorf("graph: %d edge sources but %d edge destinations", len(src), len(dst))
	}
	for k := range src {
		if src[k] < 0 || src[k] >= numSrc {
			return nil, fmt.Errorf("graph: edge %d (%d -> %d): source node %d out of range [0, %d)", k, src[k], dst[k], src[k], numSrc)
		}
		if dst[k] < 0 || dst[k] >= numDst {
			return nil, fmt.Errorf("graph: edge %d (%d -> %d): destination node %d out of range [0, %d)", k, src[k], dst[k], dst[k], numDst)
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
	for k, d := range dst {
		col[next[d]] = int32(src[k])
		next[d]++
	}
	for i := 0; i < numDst; i++ {
		row := col[rowPtr[i]:rowPtr[i+1]]
		if !sort.SliceIsSorted(row, func(a, b int) bool { return row[a] < row[b] }) {
			sort.Slice(row, func(a, b int) bool { return row[a] < row[b] })
		}
	}
	return &CSR{NumSrc: numSrc, NumDst: numDst, RowPtr: rowPtr, ColIdx: col}, nil
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

// Coalesce returns the graph with duplicate edges merged into one; the weights of merged edges
// are added, as in PyTorch Geometric's coalesce.
func (g *CSR) Coalesce() *CSR {
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
				continue
			}
			col = append(col, g.ColIdx[e])
			if w != nil {
				w = append(w, g.Weights[e])
			}
		}
		rowPtr[i+1] = len(col)
	}
	return &CSR{NumSrc: g.NumSrc, NumDst: g.NumDst, RowPtr: rowPtr, ColIdx: col, Weights: w}
}

// Symmetrize returns the undirected version of a square graph: every edge j -> i also appears as
// i -> j, duplicates merged, weights dropped. Citation graphs are used this way.
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
	s, err := FromEdges(g.NumDst, src, dst)
	if err != nil {
		return nil, err
	}
	return s.Coalesce(), nil
}
