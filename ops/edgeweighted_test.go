package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// refEdgeWeighted: out[i] block h = sum_{e into i} w[e, h] x[src(e)] block h, naive loops.
func refEdgeWeighted(src, dst []int, nodes int, x, w []float64, width, heads int) []float64 {
	out := make([]float64, nodes*width)
	f := width / heads
	for e := range src {
		for j := 0; j < width; j++ {
			out[dst[e]*width+j] += w[e*heads+j/f] * x[src[e]*width+j]
		}
	}
	return out
}

var (
	_ = register(func() *opContract {
		a := smallGraph(nil)
		src, dst := edgeLists(a)
		return &opContract{
			ops: []string{"EdgeWeightedAggregate"},
			inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
				return []*tensor.Dense{randDense(rng, dt, a.NumSrc, 6), randDense(rng, dt, a.NumEdges(), 2)}
			},
			build: func(x, _ []*G.Node) (*G.Node, error) { return EdgeWeightedAggregate(a, x[0], x[1]) },
			ref: func(x [][]float64) []float64 {
				return refEdgeWeighted(src, dst, a.NumDst, x[0], x[1], 6, 2)
			},
			bad: []badInput{
				{"edge count", func(g *G.ExprGraph) (*G.Node, error) {
					return EdgeWeightedAggregate(a, matNode(g, tensor.Float32, 7, 3, "x"), vecNode(g, tensor.Float32, 3, "w"))
				}, "want (11)"},
				{"nil weights", func(g *G.ExprGraph) (*G.Node, error) {
					return EdgeWeightedAggregate(a, matNode(g, tensor.Float32, 7, 3, "x"), nil)
				}, "nil edge-weight"},
			},
		}
	}())
	_ = register(func() *opContract {
		a := smallGraph(nil)
		src, dst := edgeLists(a)
		return &opContract{
			ops: []string{"SparseMatMul"},
			inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
				return []*tensor.Dense{randDense(rng, dt, a.NumSrc, 4), randDense(rng, dt, a.NumEdges())}
			},
			build: func(x, _ []*G.Node) (*G.Node, error) { return SparseMatMul(a, x[1], x[0]) },
			ref: func(x [][]float64) []float64 {
				return refEdgeWeighted(src, dst, a.NumDst, x[0], x[1], 4, 1)
			},
			wrt: []int{0}, // the values are data
			bad: []badInput{
				{"values", func(g *G.ExprGraph) (*G.Node, error) {
					return SparseMatMul(a, vecNode(g, tensor.Float32, 4, "v"), matNode(g, tensor.Float32, 7, 3, "x"))
				}, "want (11)"},
				{"nil values", func(g *G.ExprGraph) (*G.Node, error) {
					return SparseMatMul(a, nil, matNode(g, tensor.Float32, 7, 3, "x"))
				}, "nil values"},
			},
		}
	}())
)

func TestEdgeWeightedAggregate(t *testing.T) { runContract(t, "EdgeWeightedAggregate") }
func TestSparseMatMul(t *testing.T)          { runContract(t, "SparseMatMul") }
