package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/graph"
)

// SparseFeatures is a sparse node-feature matrix (rows: nodes, columns: features), kept sparse
// through the first layer, which multiplies only its nonzeros. The sparsity pattern is a
// graph.CSR whose destinations are nodes and sources are feature columns; the nonzero values are
// a node of their own so that dropout can act on them, as in Kipf & Welling's sparse dropout.
type SparseFeatures struct {
	Pattern *graph.CSR
	Values  *G.Node
}

// NewSparseFeatures adds a sparse feature matrix to the context's graph: rowPtr, cols and vals in
// CSR form for a rows x numCols matrix.
func NewSparseFeatures(c *Context, rows, numCols int, rowPtr []int, cols []int32, vals []float32) (*SparseFeatures, error) {
	p := &graph.CSR{NumSrc: numCols, NumDst: rows, RowPtr: rowPtr, ColIdx: cols}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("nn: sparse features: %w", err)
	}
	if len(vals) != len(cols) {
		return nil, fmt.Errorf("nn: sparse features: %d values for %d nonzeros", len(vals), len(cols))
	}
	v := tensor.New(tensor.WithShape(len(vals)), tensor.Of(c.Dtype))
	for i, x := range vals {
		if x-x != 0 {
			return nil, fmt.Errorf("nn: sparse features: value %d (row of column %d) is %v", i, cols[i], x)
		}
		if c.Dtype == tensor.Float32 {
			v.Float32s()[i] = x
		} else {
			v.Float64s()[i] = float64(x)
		}
	}
	return &SparseFeatures{Pattern: p, Values: c.Constant("sparse_features", v)}, nil
}

// Dropout returns the features with dropout applied to their nonzero values.
func (x *SparseFeatures) Dropout(c *Context, p float64) (Features, error) {
	v, err := c.Dropout(x.Values, p)
	if err != nil {
		return nil, err
	}
	return &SparseFeatures{Pattern: x.Pattern, Values: v}, nil
}

// SparseTable is a sparse feature matrix held outside any graph, from which mini-batches take
// the rows of their sampled nodes (Gather). It is a datasets.SparseMatrix (CSR: Rows, Cols,
// RowPtr, ColIdx, Values) with the method Gather: a loaded matrix m becomes one without a copy,
// as (*nn.SparseTable)(m).
type SparseTable datasets.SparseMatrix

// Gather adds the rows ids of the table to the context's graph as sparse features, in that order.
func (s *SparseTable) Gather(c *Context, ids []int32) (*SparseFeatures, error) {
	rowPtr := make([]int, len(ids)+1)
	for k, id := range ids {
		if id < 0 || int(id) >= s.Rows {
			return nil, fmt.Errorf("nn: sparse table row %d out of range [0, %d)", id, s.Rows)
		}
		rowPtr[k+1] = rowPtr[k] + s.RowPtr[id+1] - s.RowPtr[id]
	}
	cols := make([]int32, 0, rowPtr[len(ids)])
	vals := make([]float32, 0, rowPtr[len(ids)])
	for _, id := range ids {
		lo, hi := s.RowPtr[id], s.RowPtr[id+1]
		cols = append(cols, s.ColIdx[lo:hi]...)
		vals = append(vals, s.Values[lo:hi]...)
	}
	return NewSparseFeatures(c, len(ids), s.Cols, rowPtr, cols, vals)
}
