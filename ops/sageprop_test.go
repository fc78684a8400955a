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

// TestSAGEPropagate checks the fused op against MeanAggregate / SumAggregate + self + bias built
// from separate nodes, on a square graph and on a sampled block (fewer destinations than sources,
// a destination without in-edges), and its gradients against finite differences.
func TestSAGEPropagate(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	sq, err := graph.Random(60, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	block, err := graph.FromBipartiteEdges(9, 4, []int{4, 5, 6, 0, 7, 8, 1, 4}, []int{0, 0, 0, 1, 1, 2, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []*graph.CSR{sq, block} {
		for _, mean := range []bool{true, false} {
			agg := SumAggregate
			if mean {
				agg = MeanAggregate
			}
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				for _, width := range []int{1, 8, 19} {
					neigh := randDense(rng, dt, g.NumSrc, width)
					self := randDense(rng, dt, g.NumSrc, width)
					b := randDense(rng, dt, width)
					got := asFloat64(forwardNodes(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
						return SAGEPropagate(g, in[0], in[1], in[2], mean)
					}, neigh, self, b))
					h := asFloat64(forwardNodes(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
						return agg(g, in[0])
					}, neigh))
					s, bv := asFloat64(self), asFloat64(b)
					for i := 0; i < g.NumDst; i++ {
						for j := 0; j < width; j++ {
							want := h[i*width+j] + s[i*width+j] + bv[j]
							if got := got[i*width+j]; math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
								t.Fatalf("%v mean=%v width %d: out[%d][%d] = %v, want %v", dt, mean, width, i, j, got, want)
							}
						}
					}
					t.Run(fmt.Sprintf("grad/%v/mean=%v/w=%d/dst=%d", dt, mean, width, g.NumDst), func(t *testing.T) {
						checkGrad(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
							return SAGEPropagate(g, in[0], in[1], in[2], mean)
						}, neigh, self, b)
						checkGrad(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
							return SAGEPropagate(g, in[0], in[1], nil, mean)
						}, neigh, self)
					})
				}
			}
		}
	}
}

func TestSAGEPropagateRejects(t *testing.T) {
	a, _ := graph.FromBipartiteEdges(5, 3, []int{3, 4}, []int{0, 1})
	g := G.NewGraph()
	m := func(r, c int, dt tensor.Dtype) *G.Node {
		return G.NewMatrix(g, dt, G.WithShape(r, c), G.WithInit(G.Zeroes()))
	}
	neigh := m(5, 4, tensor.Float32)
	for name, self := range map[string]*G.Node{
		"nil":         nil,
		"too few":     m(2, 4, tensor.Float32),
		"other width": m(5, 3, tensor.Float32),
		"other dtype": m(5, 4, tensor.Float64),
	} {
		if _, err := SAGEPropagate(a, neigh, self, nil, true); err == nil {
			t.Errorf("self %s accepted", name)
		}
	}
	if _, err := SAGEPropagate(a, m(4, 4, tensor.Float32), m(5, 4, tensor.Float32), nil, true); err == nil {
		t.Error("neighbourhood with a row per destination, not per source, accepted")
	}
}

var _ = register(func() *opContract {
	// A block: 9 sources, 4 destinations, destination 3 without in-edges.
	a, _ := graph.FromBipartiteEdges(9, 4, []int{4, 5, 6, 0, 7, 8, 1, 4}, []int{0, 0, 0, 1, 1, 2, 2, 2})
	src, dst := edgeLists(a)
	return &opContract{
		ops: []string{"SAGEPropagate"},
		inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
			return []*tensor.Dense{randDense(rng, dt, 9, 5), randDense(rng, dt, 9, 5), randDense(rng, dt, 5)}
		},
		build: func(x, _ []*G.Node) (*G.Node, error) { return SAGEPropagate(a, x[0], x[1], x[2], true) },
		ref: func(x [][]float64) []float64 {
			out := refScatter("mean", dst, 4, refGather(src, x[0], 5, false, 9), 5)
			for i := 0; i < 4; i++ {
				for f := 0; f < 5; f++ {
					out[i*5+f] += x[1][i*5+f] + x[2][f]
				}
			}
			return out
		},
		bad: []badInput{
			{"self rows", func(g *G.ExprGraph) (*G.Node, error) {
				return SAGEPropagate(a, matNode(g, tensor.Float32, 9, 2, "n"), matNode(g, tensor.Float32, 3, 2, "s"), nil, true)
			}, "want at least 4 rows"},
			{"nil self", func(g *G.ExprGraph) (*G.Node, error) {
				return SAGEPropagate(a, matNode(g, tensor.Float32, 9, 2, "n"), nil, nil, true)
			}, "nil self"},
		},
	}
}())

func TestSAGEPropagateContract(t *testing.T) { runContract(t, "SAGEPropagate") }
