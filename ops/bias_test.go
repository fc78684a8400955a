package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestAddBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		// The large case is split over the workers.
		for _, shape := range [][2]int{{1, 1}, {5, 3}, {3000, 70}} {
			x := randDense(rng, dt, shape[0], shape[1])
			b := randDense(rng, dt, shape[1])
			got := asFloat64(forwardNodes(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
				return AddBias(in[0], in[1])
			}, x, b))
			xs, bs := asFloat64(x), asFloat64(b)
			for i, v := range got {
				// One addition, so exact in either dtype.
				want := xs[i] + bs[i%shape[1]]
				if dt == tensor.Float32 {
					want = float64(float32(xs[i]) + float32(bs[i%shape[1]]))
				}
				if v != want {
					t.Fatalf("%v %v: out[%d] = %v, want %v", dt, shape, i, v, want)
				}
			}
		}
		x, b := randDense(rng, dt, 6, 4), randDense(rng, dt, 4)
		checkGrad(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) { return AddBias(in[0], in[1]) }, x, b)
	}
	g := G.NewGraph()
	m := G.NewMatrix(g, tensor.Float32, G.WithShape(3, 4), G.WithInit(G.Zeroes()))
	for name, b := range map[string]*G.Node{
		"short":  G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithInit(G.Zeroes())),
		"dtype":  G.NewVector(g, tensor.Float64, G.WithShape(4), G.WithInit(G.Zeroes())),
		"matrix": G.NewMatrix(g, tensor.Float32, G.WithShape(1, 4), G.WithInit(G.Zeroes())),
		"nil":    nil,
	} {
		if _, err := AddBias(m, b); err == nil {
			t.Errorf("bias %s accepted", name)
		}
	}
}

var _ = register(&opContract{
	ops: []string{"AddBias"},
	inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
		return []*tensor.Dense{randDense(rng, dt, 8, 5), randDense(rng, dt, 5)}
	},
	build: func(x, _ []*G.Node) (*G.Node, error) { return AddBias(x[0], x[1]) },
	ref: func(x [][]float64) []float64 {
		out := make([]float64, len(x[0]))
		for i, v := range x[0] {
			out[i] = v + x[1][i%5]
		}
		return out
	},
	bad: []badInput{
		{"short", func(g *G.ExprGraph) (*G.Node, error) {
			return AddBias(matNode(g, tensor.Float32, 3, 4, "x"), vecNode(g, tensor.Float32, 3, "b"))
		}, "bias"},
	},
})

func TestAddBiasContract(t *testing.T) { runContract(t, "AddBias") }
