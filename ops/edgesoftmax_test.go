package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// refEdgeSoftmax normalises s (E, heads) over each destination's in-edges, naive loops.
func refEdgeSoftmax(dst []int, nodes int, s []float64, heads int) []float64 {
	den := make([]float64, nodes*heads)
	mx := make([]float64, nodes*heads)
	for i := range mx {
		mx[i] = math.Inf(-1)
	}
	for e, i := range dst {
		for h := 0; h < heads; h++ {
			mx[i*heads+h] = math.Max(mx[i*heads+h], s[e*heads+h])
		}
	}
	for e, i := range dst {
		for h := 0; h < heads; h++ {
			den[i*heads+h] += math.Exp(s[e*heads+h] - mx[i*heads+h])
		}
	}
	out := make([]float64, len(s))
	for e, i := range dst {
		for h := 0; h < heads; h++ {
			out[e*heads+h] = math.Exp(s[e*heads+h]-mx[i*heads+h]) / den[i*heads+h]
		}
	}
	return out
}

var _ = register(func() *opContract {
	a := smallGraph(nil)
	_, dst := edgeLists(a)
	return &opContract{
		ops: []string{"EdgeSoftmax"},
		inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
			return []*tensor.Dense{randDense(rng, dt, a.NumEdges(), 3)}
		},
		build: func(x, _ []*G.Node) (*G.Node, error) { return EdgeSoftmax(a, x[0]) },
		ref:   func(x [][]float64) []float64 { return refEdgeSoftmax(dst, a.NumDst, x[0], 3) },
		bad: []badInput{
			{"edge count", func(g *G.ExprGraph) (*G.Node, error) { return EdgeSoftmax(a, vecNode(g, tensor.Float32, 3, "s")) }, "want (11) or (11, heads)"},
			{"nil graph", func(g *G.ExprGraph) (*G.Node, error) { return EdgeSoftmax(nil, vecNode(g, tensor.Float32, 11, "s")) }, "nil graph"},
		},
	}
}())

func TestEdgeSoftmax(t *testing.T) { runContract(t, "EdgeSoftmax") }
