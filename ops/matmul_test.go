package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestMatMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, s := range [][3]int{{7, 5, 3}, {33, 17, 9}, {2, 1, 1}} {
			n, k, m := s[0], s[1], s[2]
			x := randDense(rng, dt, n, k)
			w := randDense(rng, dt, k, m)
			mul := func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) { return MatMul(in[0], in[1]) }
			got := asFloat64(forwardNodes(t, mul, x, w))
			xs, ws := asFloat64(x), asFloat64(w)
			for i := 0; i < n; i++ {
				for j := 0; j < m; j++ {
					want := 0.0
					for l := 0; l < k; l++ {
						want += xs[i*k+l] * ws[l*m+j]
					}
					if math.Abs(got[i*m+j]-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("%v %v: out[%d][%d] = %v, want %v", dt, s, i, j, got[i*m+j], want)
					}
				}
			}
			t.Run(fmt.Sprintf("grad/%v/%v", dt, s), func(t *testing.T) { checkGrad(t, mul, x, w) })
		}
	}
	g := G.NewGraph()
	a := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithInit(G.Zeroes()))
	if _, err := MatMul(a, a); err == nil {
		t.Error("2x3 times 2x3 accepted")
	}
}

var _ = register(&opContract{
	ops: []string{"MatMul"},
	inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
		return []*tensor.Dense{randDense(rng, dt, 9, 5), randDense(rng, dt, 5, 4)}
	},
	build: func(x, _ []*G.Node) (*G.Node, error) { return MatMul(x[0], x[1]) },
	ref: func(x [][]float64) []float64 {
		out := make([]float64, 9*4)
		for i := 0; i < 9; i++ {
			for j := 0; j < 4; j++ {
				for l := 0; l < 5; l++ {
					out[i*4+j] += x[0][i*5+l] * x[1][l*4+j]
				}
			}
		}
		return out
	},
	bad: []badInput{
		{"inner", func(g *G.ExprGraph) (*G.Node, error) {
			return MatMul(matNode(g, tensor.Float32, 2, 3, "a"), matNode(g, tensor.Float32, 2, 3, "b"))
		}, "do not multiply"},
		{"nil", func(g *G.ExprGraph) (*G.Node, error) { return MatMul(nil, matNode(g, tensor.Float32, 2, 3, "b")) }, "nil input"},
	},
})

func TestMatMulContract(t *testing.T) { runContract(t, "MatMul") }
