package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var _ = register(&opContract{
	ops: []string{"Add"},
	inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
		return []*tensor.Dense{randDense(rng, dt, 8, 5), randDense(rng, dt, 8, 5)}
	},
	build: func(x, _ []*G.Node) (*G.Node, error) { return Add(x[0], x[1]) },
	ref: func(x [][]float64) []float64 {
		out := make([]float64, len(x[0]))
		for i := range out {
			out[i] = x[0][i] + x[1][i]
		}
		return out
	},
	bad: []badInput{
		{"shape", func(g *G.ExprGraph) (*G.Node, error) {
			return Add(matNode(g, tensor.Float32, 2, 2, "x"), matNode(g, tensor.Float32, 2, 3, "y"))
		}, "want one shape and dtype"},
		{"dtype", func(g *G.ExprGraph) (*G.Node, error) {
			return Add(matNode(g, tensor.Float32, 2, 2, "x"), matNode(g, tensor.Float64, 2, 2, "y"))
		}, "want one shape and dtype"},
	},
})

func TestAdd(t *testing.T) { runContract(t, "Add") }
