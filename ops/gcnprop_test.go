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

// TestGCNPropagate checks the fused op against WeightedAggregate over GCNNorm plus the bias, and
// its gradients against finite differences.
func TestGCNPropagate(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	a, err := graph.Random(70, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	// A node without in-edges: only its self-loop.
	iso, err := graph.FromEdges(4, []int{0, 1, 2}, []int{1, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []*graph.CSR{a, iso} {
		norm, err := g.GCNNorm()
		if err != nil {
			t.Fatal(err)
		}
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			for _, width := range []int{1, 8, 19} {
				x := randDense(rng, dt, g.NumDst, width)
				b := randDense(rng, dt, width)
				got := asFloat64(forwardNodes(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
					return GCNPropagate(g, in[0], in[1])
				}, x, b))
				want := asFloat64(forwardNodes(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
					h, err := WeightedAggregate(norm, in[0])
					if err != nil {
						return nil, err
					}
					return G.BroadcastAdd(h, in[1], nil, []byte{0})
				}, x, b))
				// GCNNorm's weights are float32, so the reference is float32-exact at best.
				tol := 1e-6
				if dt == tensor.Float32 {
					tol = 1e-5
				}
				for k := range want {
					if math.Abs(got[k]-want[k]) > tol*(1+math.Abs(want[k])) {
						t.Fatalf("%v width %d: out[%d] = %v, want %v", dt, width, k, got[k], want[k])
					}
				}
				t.Run(fmt.Sprintf("grad/%v/w=%d/n=%d", dt, width, g.NumDst), func(t *testing.T) {
					checkGrad(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
						return GCNPropagate(g, in[0], in[1])
					}, x, b)
					checkGrad(t, func(_ *G.ExprGraph, in []*G.Node) (*G.Node, error) {
						return GCNPropagate(g, in[0], nil)
					}, x)
				})
			}
		}
	}
}

func TestGCNPropagateRejects(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(3, 2), G.WithInit(G.Zeroes()))
	loop, _ := graph.FromEdges(3, []int{0, 1}, []int{0, 2})
	w, _ := graph.FromEdges(3, []int{0, 1}, []int{1, 2})
	w, _ = w.WithWeights([]float32{1, 2})
	for _, a := range []*graph.CSR{loop, w} {
		if _, err := GCNPropagate(a, x, nil); err == nil {
			t.Errorf("graph %v accepted", a)
		}
	}
}

func BenchmarkGCNPropagate(b *testing.B) {
	a, err := graph.Random(100000, 16, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := randDense(rng, tensor.Float32, a.NumDst, 64)
	bias := randDense(rng, tensor.Float32, 64)
	op := &gcnPropOp{opBase: opBase{name: "gcn_propagate", g: a}, norm: newGCNNorm(a), bias: true}
	var out G.Value
	for b.Loop() {
		if out, err = op.UsePreallocDo(out, x, bias); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = register(func() *opContract {
	// A node without in-edges (3) keeps only its self-loop.
	a, _ := graph.FromEdges(6, []int{0, 1, 2, 4, 5, 0, 3}, []int{1, 2, 1, 0, 0, 5, 4})
	src, dst := edgeLists(a)
	return &opContract{
		ops: []string{"GCNPropagate"},
		inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
			return []*tensor.Dense{randDense(rng, dt, 6, 5), randDense(rng, dt, 5)}
		},
		build: func(x, _ []*G.Node) (*G.Node, error) { return GCNPropagate(a, x[0], x[1]) },
		ref: func(x [][]float64) []float64 {
			deg := make([]float64, 6)
			for i := range deg {
				deg[i] = 1 // the self-loop
			}
			for _, i := range dst {
				deg[i]++
			}
			out := make([]float64, 6*5)
			for i := 0; i < 6; i++ {
				for f := 0; f < 5; f++ {
					out[i*5+f] = x[0][i*5+f]/deg[i] + x[1][f]
				}
			}
			for e := range src {
				for f := 0; f < 5; f++ {
					out[dst[e]*5+f] += x[0][src[e]*5+f] / math.Sqrt(deg[src[e]]*deg[dst[e]])
				}
			}
			return out
		},
		bad: []badInput{
			{"rows", func(g *G.ExprGraph) (*G.Node, error) {
				return GCNPropagate(a, matNode(g, tensor.Float32, 5, 2, "x"), nil)
			}, "want 6"},
			{"self-loop", func(g *G.ExprGraph) (*G.Node, error) {
				loop, _ := graph.FromEdges(3, []int{0, 1}, []int{0, 2})
				return GCNPropagate(loop, matNode(g, tensor.Float32, 3, 2, "x"), nil)
			}, "self-loop"},
		},
	}
}())

func TestGCNPropagateContract(t *testing.T) { runContract(t, "GCNPropagate") }
