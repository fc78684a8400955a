package graph

import (
	"fmt"
	"slices"
	"sort"
)

// EdgeAttr returns the graph's edge attributes, an (E, dim) row-major matrix in the graph's edge
// order (row e belongs to edge e), or nil, 0 when the graph has none. The slice is the graph's
// own: do not modify it.
//
// Attributes stay aligned with the edges through every transform of this package: Transpose
// (permuted into the reverse edge order), AddSelfLoops (new loops get a fill value),
// GCNNorm, MeanWeights and WithWeights (unchanged), Sample (the sampled edges' rows), Subgraph
// (the kept edges' rows), Coalesce (rows of merged duplicates added) and Symmetrize (rows of
// merged duplicates averaged).
func (g *CSR) EdgeAttr() (attr []float32, dim int) {
	if g.attrDim == 0 {
		return nil, 0
	}
	return g.attr, g.attrDim
}

// WithEdgeAttr returns a graph with the same edges and weights and the given edge attributes,
// an (E, dim) row-major matrix in g's edge order. The structure is shared, not copied; attr is
// kept, not copied. dim must be at least 1 and len(attr) must be E*dim.
func (g *CSR) WithEdgeAttr(attr []float32, dim int) (*CSR, error) {
	if err := checkAttr(len(g.ColIdx), attr, dim); err != nil {
		return nil, err
	}
	return &CSR{NumSrc: g.NumSrc, NumDst: g.NumDst, RowPtr: g.RowPtr, ColIdx: g.ColIdx, Weights: g.Weights, attr: attr, attrDim: dim}, nil
}

// FromEdgesAttr is FromEdges with edge attributes: attr is an (len(src), dim) row-major matrix
// whose row k belongs to input edge k; the rows are reordered with the edges (duplicates keep
// their input order), so EdgeAttr of the result is in the graph's edge order.
func FromEdgesAttr(numNodes int, src, dst []int, attr []float32, dim int) (*CSR, error) {
	return FromBipartiteEdgesAttr(numNodes, numNodes, src, dst, attr, dim)
}

// FromBipartiteEdgesAttr is FromBipartiteEdges with edge attributes, as FromEdgesAttr.
func FromBipartiteEdgesAttr(numSrc, numDst int, src, dst []int, attr []float32, dim int) (*CSR, error) {
	if err := checkAttr(len(src), attr, dim); err != nil {
		return nil, err
	}
	g, perm, err := buildCSR(numSrc, numDst, src, dst, true)
	if err != nil {
		return nil, err
	}
	g.attr, g.attrDim = permuteRows(attr, dim, perm), dim
	return g, nil
}

func checkAttr(edges int, attr []float32, dim int) error {
	if dim < 1 {
		return fmt.Errorf("graph: edge attribute width %d; want dim >= 1", dim)
	}
	if len(attr) != edges*dim {
		return fmt.Errorf("graph: %d edge attribute values for %d edges of width %d; want edges x dim = %d, one row per edge", len(attr), edges, dim, edges*dim)
	}
	return nil
}

// permuteRows returns the rows src[perm[k]] of an (n, dim) matrix, k = 0..len(perm)-1.
func permuteRows[P int32 | int](src []float32, dim int, perm []P) []float32 {
	out := make([]float32, len(perm)*dim)
	for k, p := range perm {
		copy(out[k*dim:(k+1)*dim], src[int(p)*dim:(int(p)+1)*dim])
	}
	return out
}

// AttrFill says what edge attributes AddSelfLoopsAttr gives the self-loops it adds, as PyTorch
// Geometric's fill_value: Value, a row of dim values or one value for every column; or Reduce,
// one of "add", "mean", "max", "min", which combines the attribute rows of the node's in-edges
// (a node without in-edges gets zeros). Exactly one of the two is set.
type AttrFill struct {
	Value  []float32
	Reduce string
}

// AddSelfLoopsAttr is AddSelfLoops with the attributes of new self-loops given by fill; new
// loops get weight weightFill when the graph is weighted. Existing self-loops keep their
// weights and attributes. A graph without attributes gets none.
func (g *CSR) AddSelfLoopsAttr(weightFill float32, fill AttrFill) (*CSR, error) {
	if g.attrDim > 0 {
		if err := fill.check(g.attrDim); err != nil {
			return nil, err
		}
	}
	return g.addSelfLoops(weightFill, fill)
}

func (f AttrFill) check(dim int) error {
	switch {
	case f.Reduce != "" && f.Value != nil:
		return fmt.Errorf("graph: AttrFill has both Value and Reduce %q; set one", f.Reduce)
	case f.Reduce != "":
		switch f.Reduce {
		case "add", "mean", "max", "min":
			return nil
		}
		return fmt.Errorf("graph: AttrFill.Reduce %q; want add, mean, max or min", f.Reduce)
	case len(f.Value) != 1 && len(f.Value) != dim:
		return fmt.Errorf("graph: AttrFill.Value has %d values for attributes of width %d; give 1 or %d", len(f.Value), dim, dim)
	}
	return nil
}

// row writes the fill row of the self-loop of node i into out.
func (f AttrFill) row(g *CSR, i int, out []float32) {
	dim := g.attrDim
	if f.Reduce == "" {
		for j := range out {
			out[j] = f.Value[min(j, len(f.Value)-1)]
		}
		return
	}
	lo, hi := g.RowPtr[i], g.RowPtr[i+1]
	clear(out)
	if lo == hi {
		return
	}
	copy(out, g.attr[lo*dim:(lo+1)*dim])
	for e := lo + 1; e < hi; e++ {
		r := g.attr[e*dim : (e+1)*dim]
		for j, v := range r {
			switch f.Reduce {
			case "add", "mean":
				out[j] += v
			case "max":
				out[j] = max(out[j], v)
			case "min":
				out[j] = min(out[j], v)
			}
		}
	}
	if f.Reduce == "mean" {
		for j := range out {
			out[j] /= float32(hi - lo)
		}
	}
}

// sortRowWithPerm sorts one row's sources ascending, carrying perm along; equal sources keep
// their order.
func sortRowWithPerm(col []int32, perm []int32) {
	if slices.IsSorted(col) {
		return
	}
	sort.Stable(rowWithPerm{col, perm})
}

type rowWithPerm struct{ col, perm []int32 }

func (r rowWithPerm) Len() int           { return len(r.col) }
func (r rowWithPerm) Less(i, j int) bool { return r.col[i] < r.col[j] }
func (r rowWithPerm) Swap(i, j int) {
	r.col[i], r.col[j] = r.col[j], r.col[i]
	r.perm[i], r.perm[j] = r.perm[j], r.perm[i]
}
