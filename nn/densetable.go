package nn

import (
	"fmt"

	"gorgonia.org/tensor"
)

// DenseTable is a Rows x Cols float32 feature matrix, row-major in Values: the dense
// counterpart of SparseTable, from which a sampled mini-batch takes its input nodes' rows.
type DenseTable struct {
	Rows, Cols int
	Values     []float32
}

// Gather adds the rows ids of the table to the context's graph as dense features, in that
// order, in the context's dtype.
func (t *DenseTable) Gather(c *Context, ids []int32) (Dense, error) {
	if t.Cols <= 0 || len(t.Values) != t.Rows*t.Cols {
		return Dense{}, fmt.Errorf("nn: dense table of %d values for %d x %d", len(t.Values), t.Rows, t.Cols)
	}
	rows := make([]float32, 0, len(ids)*t.Cols)
	for _, id := range ids {
		if id < 0 || int(id) >= t.Rows {
			return Dense{}, fmt.Errorf("nn: dense table row %d out of range [0, %d)", id, t.Rows)
		}
		rows = append(rows, t.Values[int(id)*t.Cols:(int(id)+1)*t.Cols]...)
	}
	return DenseRows(c, rows, len(ids), t.Cols), nil
}

// DenseRows adds n rows of dim float32 values (row-major) to the context's graph as a constant
// feature matrix in the context's dtype. rows must hold n*dim values; a float32 context uses
// them without a copy.
func DenseRows(c *Context, rows []float32, n, dim int) Dense {
	var t *tensor.Dense
	if c.Dtype == tensor.Float64 {
		f := make([]float64, len(rows))
		for i, v := range rows {
			f[i] = float64(v)
		}
		t = tensor.New(tensor.WithShape(n, dim), tensor.WithBacking(f))
	} else {
		t = tensor.New(tensor.WithShape(n, dim), tensor.WithBacking(rows))
	}
	return Dense{X: c.Constant("x", t)}
}
