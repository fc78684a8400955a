package ops

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// EdgeSoftmax normalises per-edge scores over each destination's in-edges, separately per head:
//
//	alpha[e, h] = exp(s[e, h]) / sum_{e' into dst(e)} exp(s[e', h])
//
// s has shape (E) or (E, H) in a's edge order. The maximum of each group is subtracted first,
// so large scores do not overflow; a node without in-edges has no group and nothing to
// normalise. The gradient is ds[e] = alpha[e] (g[e] - sum_{e' in group} alpha[e'] g[e']).
func EdgeSoftmax(a *graph.CSR, s *G.Node) (*G.Node, error) {
	if err := checkArgs("EdgeSoftmax", a, s); err != nil {
		return nil, err
	}
	return G.ApplyOp(&edgeSoftmaxOp{opBase{name: "edge_softmax", g: a}, s.Dims()}, s)
}

type edgeSoftmaxOp struct {
	opBase
	dims int
}

func (o *edgeSoftmaxOp) Arity() int { return 1 }
func (o *edgeSoftmaxOp) Type() hm.Type {
	t := G.TensorType{Dims: o.dims, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t)
}

func (o *edgeSoftmaxOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	if _, err := edgeHeads(o.name, s, o.g.NumEdges()); err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

// edgeHeads validates a per-edge tensor of shape (E) or (E, H) and returns H.
func edgeHeads(op string, s tensor.Shape, edges int) (int, error) {
	switch {
	case len(s) == 1 && s[0] == edges:
		return 1, nil
	case len(s) == 2 && s[0] == edges && s[1] > 0:
		return s[1], nil
	}
	return 0, fmt.Errorf("%s: per-edge tensor has shape %v, want (%d) or (%d, heads): one row per edge, in the graph's edge order", op, s, edges, edges)
}

func (o *edgeSoftmaxOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *edgeSoftmaxOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	s, err := denseArg(o.name, vals, 0, o.dims)
	if err != nil {
		return nil, err
	}
	heads, err := edgeHeads(o.name, s.Shape(), o.g.NumEdges())
	if err != nil {
		return nil, err
	}
	y := o.output(prealloc, s.Dtype(), s.Shape().Clone(), s)
	if s.Dtype() == tensor.Float32 {
		edgeSoftmax(o.g, s.Float32s(), y.Float32s(), heads)
	} else {
		edgeSoftmax(o.g, s.Float64s(), y.Float64s(), heads)
	}
	return y, nil
}

func edgeSoftmax[T Float](a *graph.CSR, s, y []T, heads int) {
	exp := expFor[T]()
	forRows(a, heads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e0, e1 := a.RowPtr[i], a.RowPtr[i+1]
			for h := 0; h < heads; h++ {
				m := math.Inf(-1)
				for e := e0; e < e1; e++ {
					if v := float64(s[e*heads+h]); v > m || v != v {
						m = v
					}
				}
				// A group whose maximum is +Inf or NaN yields NaN, as torch.softmax does.
				sum := 0.0
				for e := e0; e < e1; e++ {
					v := exp(float64(s[e*heads+h]) - m)
					y[e*heads+h] = T(v)
					sum += v
				}
				inv := 1 / sum
				for e := e0; e < e1; e++ {
					y[e*heads+h] = T(float64(y[e*heads+h]) * inv)
				}
			}
		}
	})
}

func (o *edgeSoftmaxOp) DiffWRT(int) []bool { return []bool{true} }

func (o *edgeSoftmaxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	ds, err := G.ApplyOp(&edgeSoftmaxGradOp{opBase{name: "edge_softmax_grad", g: o.g}, o.dims}, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{ds}, nil
}

// edgeSoftmaxGradOp computes ds from (alpha, g).
type edgeSoftmaxGradOp struct {
	opBase
	dims int
}

func (o *edgeSoftmaxGradOp) Arity() int { return 2 }
func (o *edgeSoftmaxGradOp) Type() hm.Type {
	t := G.TensorType{Dims: o.dims, Of: hm.TypeVariable('a')}
	return hm.NewFnType(t, t, t)
}

func (o *edgeSoftmaxGradOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *edgeSoftmaxGradOp) Do(vals ...G.Value) (G.Value, error) {
	return o.UsePreallocDo(nil, vals...)
}

func (o *edgeSoftmaxGradOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	alpha, err := denseArg(o.name, vals, 0, o.dims)
	if err != nil {
		return nil, err
	}
	g, err := denseArg(o.name, vals, 1, o.dims)
	if err != nil {
		return nil, err
	}
	heads, err := edgeHeads(o.name, alpha.Shape(), o.g.NumEdges())
	if err != nil {
		return nil, err
	}
	if !g.Shape().Eq(alpha.Shape()) || g.Dtype() != alpha.Dtype() {
		return nil, shapeMismatch(o.name, alpha, g)
	}
	ds := o.output(prealloc, alpha.Dtype(), alpha.Shape().Clone(), alpha, g)
	if alpha.Dtype() == tensor.Float32 {
		edgeSoftmaxBackward(o.g, alpha.Float32s(), g.Float32s(), ds.Float32s(), heads)
	} else {
		edgeSoftmaxBackward(o.g, alpha.Float64s(), g.Float64s(), ds.Float64s(), heads)
	}
	return ds, nil
}

func edgeSoftmaxBackward[T Float](a *graph.CSR, alpha, g, ds []T, heads int) {
	forRows(a, heads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e0, e1 := a.RowPtr[i], a.RowPtr[i+1]
			for h := 0; h < heads; h++ {
				var dot T
				for e := e0; e < e1; e++ {
					dot += alpha[e*heads+h] * g[e*heads+h]
				}
				for e := e0; e < e1; e++ {
					k := e*heads + h
					ds[k] = alpha[k] * (g[k] - dot)
				}
			}
		}
	})
}
