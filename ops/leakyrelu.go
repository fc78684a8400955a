package ops

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LeakyReLU returns x where x > 0 and slope*x elsewhere, element-wise for a tensor of any
// shape (torch.nn.functional.leaky_relu; GAT and GATv2 use slope 0.2), in one pass split over
// the workers. slope must be >= 0, so that the output is positive exactly where the input is,
// and the gradient, dy where the output is positive and slope*dy elsewhere, is computed from
// the output. Gorgonia's LeakyRelu is five element-wise nodes, each a pass and a temporary.
func LeakyReLU(x *G.Node, slope float64) (*G.Node, error) {
	if x == nil {
		return nil, fmt.Errorf("ops: LeakyReLU: nil input")
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("ops: LeakyReLU: input is %v, want float32 or float64", dt)
	}
	if !(slope >= 0) {
		return nil, fmt.Errorf("ops: LeakyReLU: slope %v; want slope >= 0", slope)
	}
	return G.ApplyOp(&leakyReLUOp{opBase{name: fmt.Sprintf("leaky_relu(%g)", slope)}, slope, false}, x)
}

// leakyReLUOp computes y from x, or with grad set, dx from (y, dy).
type leakyReLUOp struct {
	opBase
	slope float64
	grad  bool
}

func (o *leakyReLUOp) Arity() int {
	if o.grad {
		return 2
	}
	return 1
}

func (o *leakyReLUOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	if o.grad {
		return hm.NewFnType(a, a, a)
	}
	return hm.NewFnType(a, a)
}

func (o *leakyReLUOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *leakyReLUOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *leakyReLUOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	x, err := elementwiseArg(o.name, vals, 0)
	if err != nil {
		return nil, err
	}
	in := []*tensor.Dense{x}
	var dy *tensor.Dense
	if o.grad {
		if dy, err = elementwiseArg(o.name, vals, 1); err != nil {
			return nil, err
		}
		if !x.Shape().Eq(dy.Shape()) || x.Dtype() != dy.Dtype() {
			return nil, shapeMismatch(o.name, x, dy)
		}
		in = append(in, dy)
	}
	y := o.output(prealloc, x.Dtype(), x.Shape().Clone(), in...)
	if x.Dtype() == tensor.Float32 {
		var d []float32
		if dy != nil {
			d = dy.Float32s()
		}
		leakyReLU(x.Float32s(), d, y.Float32s(), float32(o.slope))
	} else {
		var d []float64
		if dy != nil {
			d = dy.Float64s()
		}
		leakyReLU(x.Float64s(), d, y.Float64s(), o.slope)
	}
	return y, nil
}

// leakyReLU sets y = x > 0 ? x : slope*x, or with dy, y = x > 0 ? dy : slope*dy (x being the
// forward output, positive where the input was).
func leakyReLU[T Float](x, dy, y []T, slope T) {
	forChunks(len(x), 1, func(lo, hi int) {
		var d []T
		if dy != nil {
			d = dy[lo:hi]
		}
		switch x := any(x[lo:hi]).(type) {
		case []float32:
			var d32 []float32
			if d != nil {
				d32 = any(d).([]float32)
			}
			leaky32(x, d32, any(y[lo:hi]).([]float32), float32(slope))
		case []float64:
			var d64 []float64
			if d != nil {
				d64 = any(d).([]float64)
			}
			leaky64(x, d64, any(y[lo:hi]).([]float64), float64(slope))
		}
	})
}

// leaky32 multiplies by 1 or slope chosen from the bits, without a branch: the signs of
// pre-activations are a coin toss. v > 0 picks 1; zero, negative numbers and NaN pick slope
// (so NaN stays NaN).
func leaky32(x, dy, y []float32, slope float32) {
	one, sl := math.Float32bits(1), math.Float32bits(slope)
	y = y[:len(x)]
	if dy == nil {
		for i, v := range x {
			m := uint32(int32(math.Float32bits(-v)) >> 31) // all ones where -v < 0, i.e. v > 0
			y[i] = v * math.Float32frombits(one&m|sl&^m)
		}
		return
	}
	dy = dy[:len(x)]
	for i, v := range x {
		m := uint32(int32(math.Float32bits(-v)) >> 31)
		y[i] = dy[i] * math.Float32frombits(one&m|sl&^m)
	}
}

func leaky64(x, dy, y []float64, slope float64) {
	one, sl := math.Float64bits(1), math.Float64bits(slope)
	y = y[:len(x)]
	if dy == nil {
		for i, v := range x {
			m := uint64(int64(math.Float64bits(-v)) >> 63)
			y[i] = v * math.Float64frombits(one&m|sl&^m)
		}
		return
	}
	dy = dy[:len(x)]
	for i, v := range x {
		m := uint64(int64(math.Float64bits(-v)) >> 63)
		y[i] = dy[i] * math.Float64frombits(one&m|sl&^m)
	}
}

func (o *leakyReLUOp) DiffWRT(n int) []bool { return diffFirst(n) }

func (o *leakyReLUOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if o.grad {
		return nil, fmt.Errorf("%s: no second derivative", o.name)
	}
	back := &leakyReLUOp{opBase{name: o.name + "_grad"}, o.slope, true}
	dx, err := G.ApplyOp(back, output, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}
