package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// EdgeWeightedAggregate returns out[i] = sum_{e: j -> i} w[e] x[j] where w holds one weight per
// edge of a, in a's edge order (sorted by destination): GAT's attention-weighted sum. w is a
// vector of shape (E) or, for multi-head attention, a matrix of shape (E, H): then the rows of x
// (width H*F) are H blocks of F features and block h is weighted by w[e, h]. It is
// differentiable with respect to both x and w:
//
//	dx[j] = sum_{e: j -> i} w[e] dout[i]      dw[e] = <dout[i], x[j]>   (per head block)
func EdgeWeightedAggregate(a *graph.CSR, x, w *G.Node) (*G.Node, error) {
	if err := checkArgs("EdgeWeightedAggregate", a, x); err != nil {
		return nil, err
	}
	if w == nil {
		return nil, fmt.Errorf("ops: EdgeWeightedAggregate: nil edge-weight node")
	}
	heads := 1
	if w.Dims() == 2 {
		heads = w.Shape()[1]
	}
	return G.ApplyOp(&edgeWeightedOp{opBase{name: fmt.Sprintf("edge_weighted_aggregate_h%d", heads), g: a}, heads, w.Dims(), false}, x, w)
}

// SparseMatMul returns S x where S is the sparse matrix with a's pattern (rows: destinations,
// columns: sources) and the given nonzero values, a vector of shape (E) in a's edge order. Unlike
// EdgeWeightedAggregate, only x is differentiated: the values are data, such as sparse input
// features after dropout, and their gradient is never computed.
func SparseMatMul(a *graph.CSR, values, x *G.Node) (*G.Node, error) {
	if err := checkArgs("SparseMatMul", a, x); err != nil {
		return nil, err
	}
	if values == nil {
		return nil, fmt.Errorf("ops: SparseMatMul: nil values node")
	}
	return G.ApplyOp(&edgeWeightedOp{opBase{name: "sparse_matmul", g: a}, 1, 1, true}, x, values)
}

type edgeWeightedOp struct {
	opBase
	heads int
	wdims int // 1 for (E) weights, 2 for (E, heads)
	// constWeights marks the weights as data: no gradient flows to them.
	constWeights bool
}

func (o *edgeWeightedOp) Arity() int { return 2 }
func (o *edgeWeightedOp) Type() hm.Type {
	return hm.NewFnType(matrixType, o.weightType(), matrixType)
}

func (o *edgeWeightedOp) weightType() G.TensorType { return weightType(o.wdims) }

func weightType(dims int) G.TensorType {
	if dims == 1 {
		return vectorType
	}
	return matrixType
}

func (o *edgeWeightedOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", s, o.g.NumSrc); err != nil {
		return nil, err
	}
	ws, err := shapeOf(o.name, ns, 1)
	if err != nil {
		return nil, err
	}
	if err := checkEdgeWeights(o.name, ws, o.g.NumEdges(), o.heads, s[1]); err != nil {
		return nil, err
	}
	return tensor.Shape{o.g.NumDst, s[1]}, nil
}

// checkEdgeWeights validates edge weights of shape (E) or (E, heads) against features of the
// given width.
func checkEdgeWeights(op string, s tensor.Shape, edges, heads, width int) error {
	ok := (heads == 1 && len(s) == 1 && s[0] == edges) || (len(s) == 2 && s[0] == edges && s[1] == heads)
	if heads < 1 {
		ok = false
	}
	if !ok {
		return fmt.Errorf("%s: edge weights have shape %v, want (%d) or (%d, heads): one row per edge, in the graph's edge order", op, s, edges, edges)
	}
	if heads < 1 || width%heads != 0 {
		return fmt.Errorf("%s: %d heads do not divide the feature width %d", op, heads, width)
	}
	return nil
}

func (o *edgeWeightedOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *edgeWeightedOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	w, err := denseArg(o.name, vals, 1, o.weightType().Dims)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", x.Shape(), o.g.NumSrc); err != nil {
		return nil, err
	}
	width := x.Shape()[1]
	if err := checkEdgeWeights(o.name, w.Shape(), o.g.NumEdges(), o.heads, width); err != nil {
		return nil, err
	}
	if w.Dtype() != x.Dtype() {
		return nil, shapeMismatch(o.name, x, w)
	}
	y := o.output(prealloc, x.Dtype(), tensor.Shape{o.g.NumDst, width}, x, w)
	if x.Dtype() == tensor.Float32 {
		spmmHeads(o.g, w.Float32s(), o.heads, x.Float32s(), y.Float32s(), width)
	} else {
		spmmHeads(o.g, w.Float64s(), o.heads, x.Float64s(), y.Float64s(), width)
	}
	return y, nil
}

func (o *edgeWeightedOp) DiffWRT(int) []bool { return []bool{true, !o.constWeights} }

func (o *edgeWeightedOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	base := opBase{name: o.name + "_grad_x", g: o.g}
	dx, err := G.ApplyOp(&edgeWeightedGradX{base, o.heads, o.wdims}, inputs[1], grad)
	if err != nil {
		return nil, err
	}
	if o.constWeights {
		return G.Nodes{dx, nil}, nil
	}
	base.name = o.name + "_grad_w"
	dw, err := G.ApplyOp(&edgeWeightedGradW{base, o.heads, o.wdims}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw}, nil
}

// edgeWeightedGradX computes dx = A(w)^T dout from (w, dout): a weighted gather over the
// reversed graph, with w read in reversed edge order.
type edgeWeightedGradX struct {
	opBase
	heads, wdims int
}

func (o *edgeWeightedGradX) Arity() int { return 2 }
func (o *edgeWeightedGradX) Type() hm.Type {
	return hm.NewFnType(weightType(o.wdims), matrixType, matrixType)
}

func (o *edgeWeightedGradX) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 1)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "output gradient", s, o.g.NumDst); err != nil {
		return nil, err
	}
	return tensor.Shape{o.g.NumSrc, s[1]}, nil
}

func (o *edgeWeightedGradX) Do(vals ...G.Value) (G.Value, error) {
	return o.UsePreallocDo(nil, vals...)
}

func (o *edgeWeightedGradX) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	w, err := denseArg(o.name, vals, 0, o.wdims)
	if err != nil {
		return nil, err
	}
	dy, err := denseArg(o.name, vals, 1, 2)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "output gradient", dy.Shape(), o.g.NumDst); err != nil {
		return nil, err
	}
	width := dy.Shape()[1]
	if err := checkEdgeWeights(o.name, w.Shape(), o.g.NumEdges(), o.heads, width); err != nil {
		return nil, err
	}
	if w.Dtype() != dy.Dtype() {
		return nil, shapeMismatch(o.name, dy, w)
	}
	dx := o.output(prealloc, dy.Dtype(), tensor.Shape{o.g.NumSrc, width}, w, dy)
	tr := o.g.Transpose()
	if dy.Dtype() == tensor.Float32 {
		spmmHeads(tr.Graph, permuteRows(w.Float32s(), tr.Edge, o.heads), o.heads, dy.Float32s(), dx.Float32s(), width)
	} else {
		spmmHeads(tr.Graph, permuteRows(w.Float64s(), tr.Edge, o.heads), o.heads, dy.Float64s(), dx.Float64s(), width)
	}
	return dx, nil
}

// edgeWeightedGradW computes dw[e] = <dout[dst(e)], x[src(e)]> (per head block) from (x, dout).
type edgeWeightedGradW struct {
	opBase
	heads, wdims int
}

func (o *edgeWeightedGradW) Arity() int { return 2 }
func (o *edgeWeightedGradW) Type() hm.Type {
	return hm.NewFnType(matrixType, matrixType, weightType(o.wdims))
}

func (o *edgeWeightedGradW) shape() tensor.Shape {
	if o.wdims == 1 {
		return tensor.Shape{o.g.NumEdges()}
	}
	return tensor.Shape{o.g.NumEdges(), o.heads}
}

func (o *edgeWeightedGradW) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	return o.shape(), nil
}

func (o *edgeWeightedGradW) Do(vals ...G.Value) (G.Value, error) {
	return o.UsePreallocDo(nil, vals...)
}

func (o *edgeWeightedGradW) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, dy, width, err := inputAndGrad(o.name, vals, o.g.NumSrc, o.g.NumDst)
	if err != nil {
		return nil, err
	}
	if width%o.heads != 0 {
		return nil, shapeMismatch(o.name, x, dy)
	}
	dw := o.output(prealloc, x.Dtype(), o.shape(), x, dy)
	if x.Dtype() == tensor.Float32 {
		edgeDots(o.g, x.Float32s(), dy.Float32s(), dw.Float32s(), width, o.heads)
	} else {
		edgeDots(o.g, x.Float64s(), dy.Float64s(), dw.Float64s(), width, o.heads)
	}
	return dw, nil
}
