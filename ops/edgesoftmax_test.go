package ops

import (
	"fmt"
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

func TestEdgeSoftmaxShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 1))
	a := smallGraph(t)
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		for _, shape := range [][]int{{a.NumEdges()}, {a.NumEdges(), 4}} {
			heads := 1
			if len(shape) == 2 {
				heads = shape[1]
			}
			s := randDense(rng, dt, shape...)
			// Large scores must not overflow: shift one group by 1000.
			for h := 0; h < heads; h++ {
				set(s, a.RowPtr[2]*heads+h, at(s, a.RowPtr[2]*heads+h)+1000)
			}
			got := asFloat64(forwardNodes(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
				return EdgeSoftmax(a, in[0])
			}, s))
			sv := asFloat64(s)
			for i := 0; i < a.NumDst; i++ {
				for h := 0; h < heads; h++ {
					den := 0.0
					for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
						den += math.Exp(sv[e*heads+h] - sv[a.RowPtr[i]*heads+h])
					}
					for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
						want := math.Exp(sv[e*heads+h]-sv[a.RowPtr[i]*heads+h]) / den
						if d := math.Abs(got[e*heads+h] - want); d > 1e-6 || math.IsNaN(got[e*heads+h]) {
							t.Fatalf("%v %v: alpha[%d][%d] = %v, want %v", dt, shape, e, h, got[e*heads+h], want)
						}
					}
				}
			}
			t.Run(fmt.Sprintf("grad/%v/%v", dt, shape), func(t *testing.T) {
				checkGrad(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return EdgeSoftmax(a, in[0]) }, randDense(rng, dt, shape...))
			})
		}
	}
	g := G.NewGraph()
	bad := G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithName("s"))
	if _, err := EdgeSoftmax(a, bad); err == nil {
		t.Error("EdgeSoftmax accepted 3 scores for 11 edges")
	}
}
