package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

var _ = register(func() *opContract {
	a := smallGraph(nil)
	src, dst := edgeLists(a)
	return &opContract{
		ops: []string{"EdgeScores"},
		inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
			return []*tensor.Dense{randDense(rng, dt, a.NumSrc, 3), randDense(rng, dt, a.NumDst, 3)}
		},
		build: func(x, _ []*G.Node) (*G.Node, error) { return EdgeScores(a, x[0], x[1]) },
		ref: func(x [][]float64) []float64 {
			out := make([]float64, 0, 3*len(src))
			for e := range src {
				for h := 0; h < 3; h++ {
					out = append(out, x[0][src[e]*3+h]+x[1][dst[e]*3+h])
				}
			}
			return out
		},
		bad: []badInput{
			{"rows", func(g *G.ExprGraph) (*G.Node, error) {
				return EdgeScores(a, matNode(g, tensor.Float32, 6, 3, "s"), matNode(g, tensor.Float32, 6, 3, "d"))
			}, "want 7"},
			{"nil", func(g *G.ExprGraph) (*G.Node, error) {
				return EdgeScores(a, nil, matNode(g, tensor.Float32, 6, 3, "d"))
			}, "nil input"},
		},
	}
}())

func TestEdgeScores(t *testing.T) { runContract(t, "EdgeScores") }

func TestEdgeScoresShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 1))
	a := smallGraph(t)
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		src := randDense(rng, dt, a.NumSrc, 2)
		dst := randDense(rng, dt, a.NumDst, 2)
		got := asFloat64(forwardNodes(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
			return EdgeScores(a, in[0], in[1])
		}, src, dst))
		sv, dv, d := asFloat64(src), asFloat64(dst), a.Dst()
		for e := 0; e < a.NumEdges(); e++ {
			for h := 0; h < 2; h++ {
				want := sv[int(a.ColIdx[e])*2+h] + dv[int(d[e])*2+h]
				if math.Abs(got[e*2+h]-want) > 1e-6 {
					t.Fatalf("%v: score[%d][%d] = %v, want %v", dt, e, h, got[e*2+h], want)
				}
			}
		}
		checkGrad(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return EdgeScores(a, in[0], in[1]) }, src, dst)
	}
}
