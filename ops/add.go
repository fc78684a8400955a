package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Add returns x + y element-wise for two tensors of one shape and dtype, in one pass split over
// the workers, into the output of the previous run (gorgonia.Add allocates its output every
// run, which for the (E, F) messages of a message-passing layer is the largest tensor of the
// pass). The gradient passes the output gradient to both inputs.
func Add(x, y *G.Node) (*G.Node, error) {
	if x == nil || y == nil {
		return nil, fmt.Errorf("ops: Add: nil input")
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("ops: Add: input is %v, want float32 or float64", dt)
	}
	if x.Dtype() != y.Dtype() || !x.Shape().Eq(y.Shape()) {
		return nil, fmt.Errorf("ops: Add: inputs %v %v and %v %v; want one shape and dtype (for a row vector use AddBias)", x.Dtype(), x.Shape(), y.Dtype(), y.Shape())
	}
	return G.ApplyOp(&addOp{opBase{name: "add"}}, x, y)
}

type addOp struct{ opBase }

func (o *addOp) Arity() int { return 2 }
func (o *addOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a)
}

func (o *addOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *addOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *addOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := elementwiseArg(o.name, vals, 0)
	if err != nil {
		return nil, err
	}
	y, err := elementwiseArg(o.name, vals, 1)
	if err != nil {
		return nil, err
	}
	if !x.Shape().Eq(y.Shape()) || x.Dtype() != y.Dtype() {
		return nil, shapeMismatch(o.name, x, y)
	}
	z := o.output(prealloc, x.Dtype(), x.Shape().Clone(), x, y)
	if x.Dtype() == tensor.Float32 {
		add(x.Float32s(), y.Float32s(), z.Float32s())
	} else {
		add(x.Float64s(), y.Float64s(), z.Float64s())
	}
	return z, nil
}

func add[T Float](x, y, z []T) {
	forChunks(len(x), 1, func(lo, hi int) {
		xs, ys, zs := x[lo:hi], y[lo:hi], z[lo:hi]
		for i, v := range xs {
			zs[i] = v + ys[i]
		}
	})
}

func (o *addOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *addOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return G.Nodes{grad, grad}, nil
}
