package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var _ = register(&opContract{
	ops: []string{"LeakyReLU"},
	inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
		x := randDense(rng, dt, 8, 5)
		for i := 0; i < x.Len(); i++ { // away from the kink, for finite differences
			if v := at(x, i); math.Abs(v) < 0.05 {
				set(x, i, -0.3)
			}
		}
		return []*tensor.Dense{x}
	},
	build: func(x, _ []*G.Node) (*G.Node, error) { return LeakyReLU(x[0], 0.2) },
	ref: func(x [][]float64) []float64 {
		out := make([]float64, len(x[0]))
		for i, v := range x[0] {
			out[i] = v
			if v < 0 {
				out[i] = 0.2 * v
			}
		}
		return out
	},
	bad: []badInput{
		{"slope", func(g *G.ExprGraph) (*G.Node, error) { return LeakyReLU(matNode(g, tensor.Float32, 2, 2, "x"), -1) }, "want slope >= 0"},
		{"int", func(g *G.ExprGraph) (*G.Node, error) { return LeakyReLU(matNode(g, tensor.Int, 2, 2, "x"), 0.2) }, "float"},
	},
})

func TestLeakyReLU(t *testing.T) { runContract(t, "LeakyReLU") }
