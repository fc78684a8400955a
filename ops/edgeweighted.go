package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// EdgeWeightedAggregate returns out[i] = sum_{e: j -> i} w[e] x[j] where w is a node holding one
// weight per edge of a, in a's edge order (sorted by destination): GAT's attention-weighted sum.
// It is differentiable with respect to both x and w:
//
//	dx[j] = sum_{e: j -> i} w[e] dout[i]      dw[e] = <dout[i], x[j]>
func EdgeWeightedAggregate(a *graph.CSR, x, w *G.Node) (*G.Node, error) {
	if err := checkArgs("EdgeWeightedAggregate", a, x); err != nil {
		return nil, err
	}
	if w == nil {
		return nil, fmt.Errorf("ops: EdgeWeightedAggregate: nil edge-weight node")
	}
	return G.ApplyOp(&edgeWeightedOp{opBase{name: "edge_weighted_aggregate", g: a}}, x, w)
}

type edgeWeightedOp struct{ opBase }

func (o *edgeWeightedOp) Arity() int { return 2 }
func (o *edgeWeightedOp) Type() hm.Type {
	return hm.NewFnType(matrixType, vectorType, matrixType)
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
	if err := checkEdgeVector(o.name, ws, o.g.NumEdges()); err != nil {
		return nil, err
	}
	return tensor.Shape{o.g.NumDst, s[1]}, nil
}

func checkEdgeVector(op string, s tensor.Shape, edges int) error {
	if len(s) != 1 || s[0] != edges {
		return fmt.Errorf("%s: edge weights have shape %v, want (%d) (one per edge, in the graph's edge order)", op, s, edges)
	}
	return nil
}

func (o *edgeWeightedOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *edgeWeightedOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	w, err := denseArg(o.name, vals, 1, 1)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", x.Shape(), o.g.NumSrc); err != nil {
		return nil, err
	}
	if err := checkEdgeVector(o.name, w.Shape(), o.g.NumEdges()); err != nil {
		return nil, err
	}
	if w.Dtype() != x.Dtype() {
		return nil, shapeMismatch(o.name, x, w)
	}
	width := x.Shape()[1]
	y := output(prealloc, x.Dtype(), tensor.Shape{o.g.NumDst, width}, x, w)
	if x.Dtype() == tensor.Float32 {
		spmm(o.g, w.Float32s(), x.Float32s(), y.Float32s(), width)
	} else {
		spmm(o.g, w.Float64s(), x.Float64s(), y.Float64s(), width)
	}
	return y, nil
}

func (o *edgeWeightedOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *edgeWeightedOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&edgeWeightedGradX{opBase{name: "edge_weighted_aggregate_grad_x", g: o.g}}, inputs[1], grad)
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(&edgeWeightedGradW{opBase{name: "edge_weighted_aggregate_grad_w", g: o.g}}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw}, nil
}

// edgeWeightedGradX computes dx = A(w)^T dout from (w, dout): a weighted gather over the
// reversed graph, with w read in reversed edge order.
type edgeWeightedGradX struct{ opBase }

func (o *edgeWeightedGradX) Arity() int { return 2 }
func (o *edgeWeightedGradX) Type() hm.Type {
	return hm.NewFnType(vectorType, matrixType, matrixType)
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
	w, err := denseArg(o.name, vals, 0, 1)
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
	if err := checkEdgeVector(o.name, w.Shape(), o.g.NumEdges()); err != nil {
		return nil, err
	}
	if w.Dtype() != dy.Dtype() {
		return nil, shapeMismatch(o.name, dy, w)
	}
	width := dy.Shape()[1]
	dx := output(prealloc, dy.Dtype(), tensor.Shape{o.g.NumSrc, width}, w, dy)
	tr := o.g.Transpose()
	if dy.Dtype() == tensor.Float32 {
		spmm(tr.Graph, permute(w.Float32s(), tr.Edge), dy.Float32s(), dx.Float32s(), width)
	} else {
		spmm(tr.Graph, permute(w.Float64s(), tr.Edge), dy.Float64s(), dx.Float64s(), width)
	}
	return dx, nil
}

func permute[T Float](w []T, idx []int32) []T {
	out := make([]T, len(idx))
	for t, e := range idx {
		out[t] = w[e]
	}
	return out
}

// edgeWeightedGradW computes dw[e] = <dout[dst(e)], x[src(e)]> from (x, dout).
type edgeWeightedGradW struct{ opBase }

func (o *edgeWeightedGradW) Arity() int { return 2 }
func (o *edgeWeightedGradW) Type() hm.Type {
	return hm.NewFnType(matrixType, matrixType, vectorType)
}

func (o *edgeWeightedGradW) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{o.g.NumEdges()}, nil
}

func (o *edgeWeightedGradW) Do(vals ...G.Value) (G.Value, error) {
	return o.UsePreallocDo(nil, vals...)
}

func (o *edgeWeightedGradW) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	dy, err := denseArg(o.name, vals, 1, 2)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", x.Shape(), o.g.NumSrc); err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "output gradient", dy.Shape(), o.g.NumDst); err != nil {
		return nil, err
	}
	width := x.Shape()[1]
	if dy.Shape()[1] != width || dy.Dtype() != x.Dtype() {
		return nil, shapeMismatch(o.name, x, dy)
	}
	dw := output(prealloc, x.Dtype(), tensor.Shape{o.g.NumEdges()}, x, dy)
	if x.Dtype() == tensor.Float32 {
		edgeDots(o.g, x.Float32s(), dy.Float32s(), dw.Float32s(), width)
	} else {
		edgeDots(o.g, x.Float64s(), dy.Float64s(), dw.Float64s(), width)
	}
	return dw, nil
}

func shapeMismatch(op string, a, b *tensor.Dense) error {
	return fmt.Errorf("%s: inputs do not match: %v %v and %v %v", op, a.Shape(), a.Dtype(), b.Shape(), b.Dtype())
}
