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

func TestLogSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		x := randDense(rng, dt, 5, 4)
		set(x, 0, 500) // a large logit must not overflow
		got := asFloat64(forwardNodes(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return LogSoftmax(in[0]) }, x))
		xv := asFloat64(x)
		for i := 0; i < 5; i++ {
			m := math.Inf(-1)
			for c := 0; c < 4; c++ {
				m = math.Max(m, xv[i*4+c])
			}
			s := 0.0
			for c := 0; c < 4; c++ {
				s += math.Exp(xv[i*4+c] - m)
			}
			for c := 0; c < 4; c++ {
				want := xv[i*4+c] - m - math.Log(s)
				if math.Abs(got[i*4+c]-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("%v: y[%d][%d] = %v, want %v", dt, i, c, got[i*4+c], want)
				}
			}
		}
		checkGrad(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return LogSoftmax(in[0]) }, randDense(rng, dt, 6, 3))
	}
}
