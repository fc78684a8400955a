package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
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

func TestMultiHeadEdgeWeighted(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	for _, heads := range []int{3, 1, 8} {
		for _, a := range []*graph.CSR{smallGraph(t), randomWeighted(t, 80, 4, 2)} {
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				for _, f := range []int{1, 2, 8, 17} {
					width := heads * f
					x := randDense(rng, dt, a.NumSrc, width)
					w := randDense(rng, dt, a.NumEdges(), heads)
					got := asFloat64(forwardNodes(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
						return EdgeWeightedAggregate(a, in[0], in[1])
					}, x, w))
					xs, ws := asFloat64(x), asFloat64(w)
					for i := 0; i < a.NumDst; i++ {
						for j := 0; j < width; j++ {
							want := 0.0
							for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
								want += ws[e*heads+j/f] * xs[int(a.ColIdx[e])*width+j]
							}
							if math.Abs(got[i*width+j]-want) > 1e-5*(1+math.Abs(want)) {
								t.Fatalf("%v f=%d: out[%d][%d] = %v, want %v", dt, f, i, j, got[i*width+j], want)
							}
						}
					}
					t.Run(fmt.Sprintf("grad/h=%d/%v/f=%d", heads, dt, f), func(t *testing.T) {
						checkGrad(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
							return EdgeWeightedAggregate(a, in[0], in[1])
						}, x, w)
					})
				}
			}
		}
	}
}

func TestSparseMatMulDifferentiatesOnlyX(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 1))
	a := smallGraph(t)
	x := randDense(rng, tensor.Float64, a.NumSrc, 3)
	vals := randDense(rng, tensor.Float64, a.NumEdges())
	build := func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
		v := G.NewVector(g, tensor.Float64, G.WithShape(a.NumEdges()), G.WithValue(vals), G.WithName("vals"))
		return SparseMatMul(a, v, in[0])
	}
	checkGrad(t, build, x)
	got := asFloat64(forwardNodes(t, build, x))
	want := reference("edge", a, asFloat64(x), asFloat64(vals), 3)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("element %d = %v, want %v", i, got[i], want[i])
		}
	}
}
