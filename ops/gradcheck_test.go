package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// buildFunc applies the op under test to input nodes.
type buildFunc func(g *G.ExprGraph, in []*G.Node) (*G.Node, error)

// randDense returns a tensor of the given shape with values uniform in [-1, 1).
func randDense(rng *rand.Rand, dt tensor.Dtype, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	if dt == tensor.Float32 {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(rng.Float64()*2 - 1)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = rng.Float64()*2 - 1
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

func at(t *tensor.Dense, i int) float64 {
	if t.Dtype() == tensor.Float32 {
		return float64(t.Float32s()[i])
	}
	return t.Float64s()[i]
}

func set(t *tensor.Dense, i int, v float64) {
	if t.Dtype() == tensor.Float32 {
		t.Float32s()[i] = float32(v)
	} else {
		t.Float64s()[i] = v
	}
}

// checkGrad checks the gradients of the op that build applies to inputs against finite
// differences, in the inputs' dtype: the gradient check of the op contract
// (opContract.checkGradientOn) for tests that vary shapes beyond their op's contract.
func checkGrad(t *testing.T, build buildFunc, inputs ...*tensor.Dense) {
	t.Helper()
	c := &opContract{build: func(x, _ []*G.Node) (*G.Node, error) { return build(x[0].Graph(), x) }}
	c.checkGradientOn(t, inputs)
}
