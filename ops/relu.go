package ops

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ReLU returns max(x, 0) element-wise for a tensor of any shape, keeping NaN (as torch.relu
// does), in one pass split over the workers. Its gradient passes the output gradient where the
// output is positive. Gorgonia's Rectify builds a comparison mask and multiplies by it: three
// passes and a mask-sized temporary per run, which on a 100,000 x 64 hidden layer cost more
// than the layer's aggregation.
func ReLU(x *G.Node) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("ops: ReLU: nil input")
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("ops: ReLU: input is %v, want float32 or float64", dt)
	}
	return G.ApplyOp(&reluOp{opBase: opBase{name: "relu"}}, x)
}

type reluOp struct{ opBase }

func (o *reluOp) Arity() int { return 1 }
func (o *reluOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (o *reluOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *reluOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *reluOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := elementwiseArg(o.name, vals, 0)
	if err != nil {
		return nil, err
	}
	y := o.output(prealloc, x.Dtype(), x.Shape().Clone(), x)
	if x.Dtype() == tensor.Float32 {
		relu(x.Float32s(), y.Float32s())
	} else {
		relu(x.Float64s(), y.Float64s())
	}
	return y, nil
}

func relu[T Float](x, y []T) {
	forChunks(len(x), 1, func(lo, hi int) {
		y := y[lo:hi]
		for i, v := range x[lo:hi] {
			y[i] = max(v, 0) // branch-free (a hidden layer's signs are a coin toss); NaN stays NaN
		}
	})
}

func (o *reluOp) DiffWRT(int) []bool { return []bool{true} }

func (o *reluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&reluGradOp{opBase{name: "relu_grad"}}, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// reluGradOp is dx = dy where y > 0, else 0, from (y, dy).
type reluGradOp struct{ opBase }

func (o *reluGradOp) Arity() int { return 2 }
func (o *reluGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a, a)
}

func (o *reluGradOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 1)
	if err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *reluGradOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *reluGradOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	y, err := elementwiseArg(o.name, vals, 0)
	if err != nil {
		return nil, err
	}
	dy, err := elementwiseArg(o.name, vals, 1)
	if err != nil {
		return nil, err
	}
	if !y.Shape().Eq(dy.Shape()) || y.Dtype() != dy.Dtype() {
		return nil, shapeMismatch(o.name, y, dy)
	}
	dx := o.output(prealloc, dy.Dtype(), dy.Shape().Clone(), y, dy)
	if y.Dtype() == tensor.Float32 {
		y, dy, dx := y.Float32s(), dy.Float32s(), dx.Float32s()
		forChunks(len(y), 1, func(lo, hi int) { reluGrad32(y[lo:hi], dy[lo:hi], dx[lo:hi]) })
	} else {
		y, dy, dx := y.Float64s(), dy.Float64s(), dx.Float64s()
		forChunks(len(y), 1, func(lo, hi int) { reluGrad64(y[lo:hi], dy[lo:hi], dx[lo:hi]) })
	}
	return dx, nil
}

// reluGrad32 sets dx = dy where y > 0, else +0, masking the bits so that the loop has no
// branch to mispredict on a hidden layer's coin-toss signs.
func reluGrad32(y, dy, dx []float32) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	for i, v := range y {
		var m uint32
		if v > 0 {
			m = ^uint32(0)
		}
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & m)
	}
}

func reluGrad64(y, dy, dx []float64) {
	dx, dy = dx[:len(y)], dy[:len(y)]
	for i, v := range y {
		var m uint64
		if v > 0 {
			m = ^uint64(0)
		}
		dx[i] = math.Float64frombits(math.Float64bits(dy[i]) & m)
	}
}
