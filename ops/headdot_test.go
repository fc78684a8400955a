package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// headDotRows is more than one block of the att gradient's fixed-order sum.
const headDotRows, headDotHeads, headDotWidth = headDotBlock + 20, 3, 6

var _ = register(&opContract{
	ops: []string{"HeadDot"},
	inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
		return []*tensor.Dense{randDense(rng, dt, headDotRows, headDotWidth), randDense(rng, dt, headDotWidth, 1)}
	},
	build: func(x, _ []*G.Node) (*G.Node, error) { return HeadDot(x[0], x[1], headDotHeads) },
	ref: func(x [][]float64) []float64 {
		c := headDotWidth / headDotHeads
		out := make([]float64, headDotRows*headDotHeads)
		for r := range headDotRows {
			for h := range headDotHeads {
				for j := range c {
					out[r*headDotHeads+h] += x[0][r*headDotWidth+h*c+j] * x[1][h*c+j]
				}
			}
		}
		return out
	},
	bad: []badInput{
		{"heads", func(g *G.ExprGraph) (*G.Node, error) {
			return HeadDot(matNode(g, tensor.Float32, 4, 6, "x"), matNode(g, tensor.Float32, 6, 1, "a"), 4)
		}, "not a multiple of heads"},
		{"att length", func(g *G.ExprGraph) (*G.Node, error) {
			return HeadDot(matNode(g, tensor.Float32, 4, 6, "x"), matNode(g, tensor.Float32, 5, 1, "a"), 3)
		}, "want 6 elements"},
		{"att matrix", func(g *G.ExprGraph) (*G.Node, error) {
			return HeadDot(matNode(g, tensor.Float32, 4, 6, "x"), matNode(g, tensor.Float32, 2, 3, "a"), 3)
		}, "want 6 elements"},
		{"dtype", func(g *G.ExprGraph) (*G.Node, error) {
			return HeadDot(matNode(g, tensor.Float32, 4, 6, "x"), matNode(g, tensor.Float64, 6, 1, "a"), 3)
		}, "want the same"},
		{"int", func(g *G.ExprGraph) (*G.Node, error) {
			return HeadDot(matNode(g, tensor.Int, 4, 6, "x"), matNode(g, tensor.Int, 6, 1, "a"), 3)
		}, "float"},
		{"nil", func(g *G.ExprGraph) (*G.Node, error) { return HeadDot(matNode(g, tensor.Float32, 4, 6, "x"), nil, 3) }, "nil att"},
	},
})

func TestHeadDot(t *testing.T) { runContract(t, "HeadDot") }
