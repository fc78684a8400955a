package graph

import (
	"fmt"
	"math/rand/v2"
)

// Batch is many graphs as one block-diagonal graph, as PyTorch Geometric's Batch: graph k's
// nodes are numbered Ptr[k]..Ptr[k+1]-1 in Graph, its edges keep their order after those of
// graphs 0..k-1, and Segment[v] = k for each of its nodes (the sorted segment vector that the
// segment pooling ops of package ops read). No edge joins two graphs, so a GNN layer over Graph
// computes every graph's layer at once.
type Batch struct {
	Graph *CSR
	// Segment holds the graph of each node: non-decreasing, len Graph.NumDst.
	Segment []int
	// Ptr holds each graph's first node, and Graph.NumDst last: len NumGraphs()+1.
	Ptr []int
	// EdgePtr holds each graph's first edge, and Graph.NumEdges() last, so per-edge data of
	// graph k (its edge labels) goes to edges EdgePtr[k]..EdgePtr[k+1]-1.
	EdgePtr []int
}

// NumGraphs returns the number of graphs in the batch.
func (b *Batch) NumGraphs() int { return len(b.Ptr) - 1 }

// NewBatch joins square graphs into one block-diagonal graph. Weights, and edge attributes
// (EdgeAttr), are kept when every graph has them (attributes of one width) and absent when none
// has; a mix is an error. An empty list gives an empty batch.
func NewBatch(graphs []*CSR) (*Batch, error) {
	nodes, edges, weighted, attributed, dim := 0, 0, 0, 0, 0
	for k, g := range graphs {
		if g == nil {
			return nil, fmt.Errorf("graph: batch: graph %d is nil", k)
		}
		if g.NumSrc != g.NumDst {
			return nil, fmt.Errorf("graph: batch: graph %d is bipartite (%d sources, %d destinations); batch square graphs", k, g.NumSrc, g.NumDst)
		}
		nodes += g.NumDst
		edges += g.NumEdges()
		if g.Weights != nil {
			weighted++
		}
		if _, d := g.EdgeAttr(); d > 0 {
			if attributed > 0 && d != dim {
				return nil, fmt.Errorf("graph: batch: graph %d has edge attributes of width %d, an earlier graph %d", k, d, dim)
			}
			attributed, dim = attributed+1, d
		}
	}
	if attributed != 0 && attributed != len(graphs) {
		return nil, fmt.Errorf("graph: batch: %d of %d graphs have edge attributes; give all or none attributes", attributed, len(graphs))
	}
	if weighted != 0 && weighted != len(graphs) {
		return nil, fmt.Errorf("graph: batch: %d of %d graphs have edge weights; give all or none weights", weighted, len(graphs))
	}
	if nodes > maxNodes {
		return nil, fmt.Errorf("graph: batch of %d nodes: at most %d fit int32 ids", nodes, maxNodes)
	}
	b := &Batch{Segment: make([]int, 0, nodes), Ptr: make([]int, 1, len(graphs)+1), EdgePtr: make([]int, 1, len(graphs)+1)}
	rowPtr := make([]int, 1, nodes+1)
	col := make([]int32, 0, edges)
	var w, attr []float32
	if weighted > 0 {
		w = make([]float32, 0, edges)
	}
	if attributed > 0 {
		attr = make([]float32, 0, edges*dim)
	}
	for k, g := range graphs {
		off := int32(len(rowPtr) - 1)
		base := len(col)
		for i := 0; i < g.NumDst; i++ {
			rowPtr = append(rowPtr, base+g.RowPtr[i+1]-g.RowPtr[0])
			b.Segment = append(b.Segment, k)
		}
		for _, c := range g.ColIdx[g.RowPtr[0]:g.RowPtr[g.NumDst]] {
			col = append(col, c+off)
		}
		if w != nil {
			w = append(w, g.Weights[g.RowPtr[0]:g.RowPtr[g.NumDst]]...)
		}
		if attr != nil {
			a, _ := g.EdgeAttr()
			attr = append(attr, a[g.RowPtr[0]*dim:g.RowPtr[g.NumDst]*dim]...)
		}
		b.Ptr = append(b.Ptr, len(rowPtr)-1)
		b.EdgePtr = append(b.EdgePtr, len(col))
	}
	b.Graph = &CSR{NumSrc: nodes, NumDst: nodes, RowPtr: rowPtr, ColIdx: col, Weights: w}
	if attr != nil {
		var err error
		if b.Graph, err = b.Graph.WithEdgeAttr(attr, dim); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Loader deals the items 0..N-1 of a data set (graphs for graph classification, edges or seed
// nodes otherwise) into mini-batches of BatchSize, the last one smaller, as PyTorch's DataLoader
// with drop_last=False.
type Loader struct {
	N, BatchSize int
	// Shuffle draws a new order each epoch from Rand; without it the order is 0..N-1.
	Shuffle bool
	Rand    *rand.Rand
}

// Epoch returns one epoch's mini-batches of item indices. It fails on a non-positive batch size
// or a shuffling loader without a random source.
func (l Loader) Epoch() ([][]int, error) {
	return l.EpochOf(nil)
}

// EpochOf is Epoch over the given items (e.g. the training graphs of one fold) instead of
// 0..N-1; nil means 0..N-1. items is not modified.
func (l Loader) EpochOf(items []int) ([][]int, error) {
	if l.BatchSize <= 0 {
		return nil, fmt.Errorf("graph: loader batch size %d, want > 0", l.BatchSize)
	}
	if l.Shuffle && l.Rand == nil {
		return nil, fmt.Errorf("graph: shuffling loader without a random source; set Loader.Rand")
	}
	var order []int
	if items == nil {
		order = make([]int, l.N)
		for i := range order {
			order[i] = i
		}
	} else {
		order = append([]int(nil), items...)
	}
	if l.Shuffle {
		l.Rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	var out [][]int
	for lo := 0; lo < len(order); lo += l.BatchSize {
		out = append(out, order[lo:min(lo+l.BatchSize, len(order)):min(lo+l.BatchSize, len(order))])
	}
	return out, nil
}
