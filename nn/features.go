package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// gatherRows returns the rows idx of the matrix x as a new matrix, through a sum aggregation
// over the graph whose destination r has the single source idx[r]: unlike Gorgonia's Slice it
// never returns a view or drops the axis of a one-row result, and its gradient scatters back.
func gatherRows(x *G.Node, idx []int32) (*G.Node, error) {
	return ops.SumAggregate(indexGraph(x.Shape()[0], idx), x)
}

// firstRows returns rows 0..n-1 of x.
func firstRows(x *G.Node, n int) (*G.Node, error) {
	if n == x.Shape()[0] {
		return x, nil
	}
	return gatherRows(x, rangeIdx(0, n))
}

func rangeIdx(lo, hi int) []int32 {
	idx := make([]int32, hi-lo)
	for k := range idx {
		idx[k] = int32(lo + k)
	}
	return idx
}

// indexGraph returns the graph whose destination r has the single source idx[r].
func indexGraph(numSrc int, idx []int32) *graph.CSR {
	rowPtr := make([]int, len(idx)+1)
	for r := range rowPtr {
		rowPtr[r] = r
	}
	return &graph.CSR{NumSrc: numSrc, NumDst: len(idx), RowPtr: rowPtr, ColIdx: idx}
}

// Features is a layer's input: node features, dense (Dense) or sparse (*SparseFeatures). Layers
// multiply them by a weight matrix without caring which.
type Features interface {
	// Shape returns (nodes, features).
	Shape() (nodes, features int)
	// Dropout returns the features with dropout p applied (to the nonzeros, when sparse).
	Dropout(c *Context, p float64) (Features, error)
	// Mul returns the features times w, a (features, out) node.
	Mul(w *G.Node) (*G.Node, error)
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

// Shape returns (nodes, features).
func (x *SparseFeatures) Shape() (int, int) { return x.Pattern.NumDst, x.Pattern.NumSrc }

// Mul returns X w, multiplying only the nonzeros of X.
func (x *SparseFeatures) Mul(w *G.Node) (*G.Node, error) {
	if x.Pattern.NumSrc != w.Shape()[0] {
		return nil, fmt.Errorf("nn: sparse features with %d columns do not fit weights %s of shape %v", x.Pattern.NumSrc, w.Name(), w.Shape())
	}
	return ops.SparseMatMul(x.Pattern, x.Values, w)
}
