package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		// Large enough to be split over the workers.
		for _, shape := range [][]int{{7}, {3, 5}, {400, 700}} {
			x := randDense(rng, dt, shape...)
			set(x, 0, math.NaN())
			set(x, 1, 0)
			got := asFloat64(forwardNodes(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
				return ReLU(in[0])
			}, x))
			xs := asFloat64(x)
			for i, v := range xs {
				want := math.Max(v, 0)
				if math.IsNaN(v) {
					if !math.IsNaN(got[i]) {
						t.Fatalf("%v %v: relu(NaN) = %v", dt, shape, got[i])
					}
					continue
				}
				if got[i] != want {
					t.Fatalf("%v %v: relu(%v) = %v", dt, shape, v, got[i])
				}
			}
		}
		// Finite differences away from the kink.
		x := randDense(rng, dt, 6, 5)
		for i := 0; i < 30; i++ {
			if v := at(x, i); math.Abs(v) < 0.05 {
				set(x, i, 0.3)
			}
		}
		checkGrad(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) { return ReLU(in[0]) }, x)
	}
	if _, err := ReLU(G.NewMatrix(G.NewGraph(), tensor.Int, G.WithShape(2, 2))); err == nil {
		t.Error("int input accepted")
	}
}

var _ = register(&opContract{
	ops: []string{"ReLU"},
	inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
		x := randDense(rng, dt, 8, 5)
		for i := 0; i < x.Len(); i++ { // away from the kink, for finite differences
			if v := at(x, i); math.Abs(v) < 0.05 {
				set(x, i, 0.3)
			}
		}
		return []*tensor.Dense{x}
	},
	build: func(x, _ []*G.Node) (*G.Node, error) { return ReLU(x[0]) },
	ref: func(x [][]float64) []float64 {
		out := make([]float64, len(x[0]))
		for i, v := range x[0] {
			out[i] = math.Max(v, 0)
		}
		return out
	},
	bad: []badInput{
		{"int", func(g *G.ExprGraph) (*G.Node, error) { return ReLU(matNode(g, tensor.Int, 2, 2, "x")) }, "float"},
	},
})

func TestReLUContract(t *testing.T) { runContract(t, "ReLU") }
