package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// Features is a layer's input: node features, dense (Dense) or sparse (*SparseFeatures). Layers
// multiply them by a weight matrix without caring which.
type Features interface {
	// Shape returns (nodes, features).
	Shape() (nodes, features int)
	// Dropout returns the features with dropout p applied (to the nonzeros, when sparse).
	Dropout(c *Context, p float64) (Features, error)
	// Mul returns the features times w, a (features, out) node.
	Mul(w *G.Node) (*G.Node, error)
	// Head returns the first n nodes' features: in a sampled block, the destinations' own.
	Head(n int) (Features, error)
}

// Dense wraps a (nodes, features) matrix node as Features.
type Dense struct{ X *G.Node }

// Shape returns (nodes, features).
func (d Dense) Shape() (int, int) {
	s := d.X.Shape()
	if len(s) != 2 {
		return 0, 0
	}
	return s[0], s[1]
}

// Dropout applies dropout to every element.
func (d Dense) Dropout(c *Context, p float64) (Features, error) {
	x, err := c.Dropout(d.X, p)
	return Dense{x}, err
}

// Mul returns X w.
func (d Dense) Mul(w *G.Node) (*G.Node, error) {
	if s := d.X.Shape(); len(s) != 2 || s[1] != w.Shape()[0] {
		return nil, fmt.Errorf("nn: features of shape %v do not fit weights %s of shape %v", s, w.Name(), w.Shape())
	}
	return G.Mul(d.X, w)
}

// Head returns the first n rows.
func (d Dense) Head(n int) (Features, error) {
	rows, _ := d.Shape()
	if n < 0 || n > rows {
		return nil, fmt.Errorf("nn: first %d rows of %d", n, rows)
	}
	if n == rows {
		return d, nil
	}
	x, err := G.Slice(d.X, G.S(0, n))
	return Dense{x}, err
}

// Head returns the first n rows.
func (x *SparseFeatures) Head(n int) (Features, error) {
	if n < 0 || n > x.Pattern.NumDst {
		return nil, fmt.Errorf("nn: first %d rows of %d", n, x.Pattern.NumDst)
	}
	if n == x.Pattern.NumDst {
		return x, nil
	}
	nnz := x.Pattern.RowPtr[n]
	p := &graph.CSR{NumSrc: x.Pattern.NumSrc, NumDst: n, RowPtr: x.Pattern.RowPtr[:n+1], ColIdx: x.Pattern.ColIdx[:nnz]}
	v, err := G.Slice(x.Values, G.S(0, nnz))
	if err != nil {
		return nil, err
	}
	return &SparseFeatures{Pattern: p, Values: v}, nil
}

// Shape returns (nodes, features).
func (x *SparseFeatures) Shape() (int, int) { return x.Pattern.NumDst, x.Pattern.NumSrc }

// Mul returns X w, multiplying only the nonzeros of X.
func (x *SparseFeatures) Mul(w *G.Node) (*G.Node, error) {
	if x.Pattern.NumSrc != w.Shape()[0] {
		return nil, fmt.Errorf("nn: sparse features with %d columns do not fit weights %s of shape %v", x.Pattern.NumSrc, w.Name(), w.Shape())
	}
	return ops.SparseMatMul(x.Pattern, x.Values, w)
}
