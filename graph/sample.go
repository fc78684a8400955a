package graph

import (
	"fmt"
	"math/rand/v2"
)

// Block is one hop of a sampled mini-batch, as PyTorch Geometric's NeighborLoader and DGL's
// blocks: a bipartite graph from NumSrc local source nodes to NumDst local destination nodes,
// where the destinations are also the first NumDst sources (seed nodes first), so a layer finds
// each destination's own features at the same local index. SrcIDs[k] is the original id of local
// source k. EdgeIDs[e] is the position in the sampled graph of block edge e, so per-edge data
// of the full graph can be gathered for the block; the block's graph carries the sampled edges'
// attributes already when the full graph has them.
type Block struct {
	Graph   *CSR
	SrcIDs  []int32
	EdgeIDs []int32
}

// DstIDs returns the original ids of the block's destinations.
func (b Block) DstIDs() []int32 { return b.SrcIDs[:b.Graph.NumDst] }

// Sample draws the neighbourhood of the seed nodes for a GNN with len(fanouts) layers: at hop k
// every frontier node keeps at most fanouts[k] of its in-neighbours, drawn uniformly without
// replacement (all of them when fanouts[k] < 0 or the node has fewer). It returns one block per
// layer, input layer first: blocks[len-1] has the seeds as destinations, and blocks[k].SrcIDs ==
// blocks[k-1].DstIDs(). The same rng state gives the same blocks.
func (g *CSR) Sample(seeds []int, fanouts []int, rng *rand.Rand) ([]Block, error) {
	if g.NumSrc != g.NumDst {
		return nil, fmt.Errorf("graph: sampling needs a square graph, have %d sources and %d destinations", g.NumSrc, g.NumDst)
	}
	if len(fanouts) == 0 {
		return nil, fmt.Errorf("graph: sampling with no fan-outs: give one per layer")
	}
	frontier := make([]int32, len(seeds))
	local := make(map[int32]int32, len(seeds))
	for k, s := range seeds {
		if s < 0 || s >= g.NumDst {
			return nil, fmt.Errorf("graph: seed node %d out of range [0, %d)", s, g.NumDst)
		}
		if _, dup := local[int32(s)]; dup {
			return nil, fmt.Errorf("graph: seed node %d given twice", s)
		}
		local[int32(s)] = int32(k)
		frontier[k] = int32(s)
	}
	blocks := make([]Block, len(fanouts))
	var pick []int
	for hop, fan := range fanouts {
		src := append([]int32(nil), frontier...)
		rowPtr := make([]int, len(frontier)+1)
		var col, eids []int32
		for i, v := range frontier {
			lo, hi := g.RowPtr[v], g.RowPtr[v+1]
			deg := hi - lo
			pick = pick[:0]
			if fan < 0 || deg <= fan {
				for e := lo; e < hi; e++ {
					pick = append(pick, e)
				}
			} else {
				// Partial Fisher-Yates over the row's edge positions.
				for e := lo; e < hi; e++ {
					pick = append(pick, e)
				}
				for k := 0; k < fan; k++ {
					j := k + rng.IntN(deg-k)
					pick[k], pick[j] = pick[j], pick[k]
				}
				pick = pick[:fan]
			}
			for _, e := range pick {
				u := g.ColIdx[e]
				l, ok := local[u]
				if !ok {
					l = int32(len(src))
					local[u] = l
					src = append(src, u)
				}
				col = append(col, l)
				eids = append(eids, int32(e))
			}
			sortRowWithPerm(col[rowPtr[i]:], eids[rowPtr[i]:])
			rowPtr[i+1] = len(col)
		}
		b := &CSR{NumSrc: len(src), NumDst: len(frontier), RowPtr: rowPtr, ColIdx: col}
		if g.attrDim > 0 {
			b.attr, b.attrDim = permuteRows(g.attr, g.attrDim, eids), g.attrDim
		}
		blocks[len(fanouts)-1-hop] = Block{Graph: b, SrcIDs: src, EdgeIDs: eids}
		frontier = src
	}
	return blocks, nil
}

// FullBlocks returns layers blocks that each cover the whole graph (every node a source and a
// destination, every edge kept): layer-wise full-graph inference with a model trained on sampled
// blocks.
func (g *CSR) FullBlocks(layers int) []Block {
	ids := make([]int32, g.NumSrc)
	for i := range ids {
		ids[i] = int32(i)
	}
	eids := make([]int32, g.NumEdges())
	for e := range eids {
		eids[e] = int32(e)
	}
	b := make([]Block, layers)
	for k := range b {
		b[k] = Block{Graph: g, SrcIDs: ids, EdgeIDs: eids}
	}
	return b
}

// Subgraph returns the subgraph induced by nodes (edges whose both ends are in nodes), with node
// k of the result being nodes[k]: the training graph of an inductive experiment. Weights and
// edge attributes of the kept edges come along.
func (g *CSR) Subgraph(nodes []int) (*CSR, error) {
	if g.NumSrc != g.NumDst {
		return nil, fmt.Errorf("graph: subgraph of a bipartite graph")
	}
	local := make([]int32, g.NumDst)
	for i := range local {
		local[i] = -1
	}
	for k, v := range nodes {
		if v < 0 || v >= g.NumDst {
			return nil, fmt.Errorf("graph: subgraph node %d out of range [0, %d)", v, g.NumDst)
		}
		if local[v] >= 0 {
			return nil, fmt.Errorf("graph: subgraph node %d given twice", v)
		}
		local[v] = int32(k)
	}
	rowPtr := make([]int, len(nodes)+1)
	var col, eids []int32
	for k, v := range nodes {
		for e := g.RowPtr[v]; e < g.RowPtr[v+1]; e++ {
			if l := local[g.ColIdx[e]]; l >= 0 {
				col = append(col, l)
				eids = append(eids, int32(e))
			}
		}
		// Local ids follow the order of nodes, so re-sort the row.
		sortRowWithPerm(col[rowPtr[k]:], eids[rowPtr[k]:])
		rowPtr[k+1] = len(col)
	}
	sub := &CSR{NumSrc: len(nodes), NumDst: len(nodes), RowPtr: rowPtr, ColIdx: col}
	if g.Weights != nil {
		sub.Weights = make([]float32, len(eids))
		for t, e := range eids {
			sub.Weights[t] = g.Weights[e]
		}
	}
	if g.attrDim > 0 {
		sub.attr, sub.attrDim = permuteRows(g.attr, g.attrDim, eids), g.attrDim
	}
	return sub, nil
}
