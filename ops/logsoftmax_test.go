package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var _ = register(&opContract{
	ops: []string{"LogSoftmax"},
	inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
		return []*tensor.Dense{randDense(rng, dt, 9, 6)}
	},
	build: func(x, _ []*G.Node) (*G.Node, error) { return LogSoftmax(x[0]) },
	ref: func(x [][]float64) []float64 {
		out := make([]float64, len(x[0]))
		for i := 0; i < 9; i++ {
			row := x[0][i*6 : i*6+6]
			s := 0.0
			for _, v := range row {
				s += math.Exp(v)
			}
			for j, v := range row {
				out[i*6+j] = v - math.Log(s)
			}
		}
		return out
	},
	bad: []badInput{
		{"vector", func(g *G.ExprGraph) (*G.Node, error) { return LogSoftmax(vecNode(g, tensor.Float32, 3, "x")) }, "want a matrix"},
		{"nil", func(g *G.ExprGraph) (*G.Node, error) { return LogSoftmax(nil) }, "nil input"},
	},
})

func TestLogSoftmaxContract(t *testing.T) { runContract(t, "LogSoftmax") }
