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

// TestGATSoftmaxMatchesComposition checks the fused op against EdgeScores, LeakyReLU and
// EdgeSoftmax, and its gradient against finite differences.
func TestGATSoftmaxMatchesComposition(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	loops, err := randomWeighted(t, 60, 5, 4).AddSelfLoops(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*graph.CSR{smallGraph(t), loops} {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			for _, heads := range []int{1, 3, 8} {
				for _, slope := range []float64{0.2, 0} {
					src := randDense(rng, dt, a.NumSrc, heads)
					dst := randDense(rng, dt, a.NumDst, heads)
					// Keep every logit src+dst at least 0.3 from LeakyReLU's kink, so that finite
					// differences do not straddle it; one large score: the maximum must be
					// subtracted before exp.
					for k := 0; k < src.Len(); k++ {
						v := at(src, k)
						set(src, k, math.Copysign(0.5+math.Abs(v)/2, v))
					}
					for k := 0; k < dst.Len(); k++ {
						set(dst, k, at(dst, k)/5)
					}
					set(src, 0, 60)
					fused := func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
						return GATSoftmax(a, in[0], in[1], slope)
					}
					got := asFloat64(forwardNodes(t, fused, src, dst))
					want := asFloat64(forwardNodes(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
						e, err := EdgeScores(a, in[0], in[1])
						if err != nil {
							return nil, err
						}
						if e, err = G.LeakyRelu(e, slope); err != nil {
							return nil, err
						}
						return EdgeSoftmax(a, e)
					}, src, dst))
					tol := 1e-12
					if dt == tensor.Float32 {
						tol = 2e-6
					}
					for k := range want {
						if math.Abs(got[k]-want[k]) > tol {
							t.Fatalf("%v heads=%d slope=%v: alpha[%d] = %v, want %v", dt, heads, slope, k, got[k], want[k])
						}
					}
					t.Run(fmt.Sprintf("grad/%v/h=%d/slope=%v/E=%d", dt, heads, slope, a.NumEdges()), func(t *testing.T) {
						checkGrad(t, fused, src, dst)
					})
				}
			}
		}
	}
}

func TestExpF32(t *testing.T) {
	worst := 0.0
	for x := -87.0; x <= 88.5; x += 0.001 {
		got := float64(expF32(float32(x)))
		want := math.Exp(float64(float32(x)))
		if rel := math.Abs(got-want) / want; rel > worst {
			worst = rel
		}
	}
	if worst > 4e-7 {
		t.Errorf("expF32: worst relative error %g, want <= 4e-7 (about 3 ulp)", worst)
	}
	if v := expF32(-100); v != 0 {
		t.Errorf("expF32(-100) = %v, want 0", v)
	}
	if v := expF32(float32(math.NaN())); v == v {
		t.Errorf("expF32(NaN) = %v", v)
	}
	if v := expF32(float32(math.Inf(-1))); v != 0 {
		t.Errorf("expF32(-Inf) = %v", v)
	}
	if v := expF32(0); v != 1 {
		t.Errorf("expF32(0) = %v", v)
	}
}

func BenchmarkGATSoftmax(b *testing.B) {
	a, err := graph.Random(100000, 16, 1)
	if err != nil {
		b.Fatal(err)
	}
	if a, err = a.AddSelfLoops(1); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	src := randDense(rng, tensor.Float32, a.NumSrc, 8)
	dst := randDense(rng, tensor.Float32, a.NumDst, 8)
	op := &gatSoftmaxOp{opBase{name: "gat_softmax", g: a}, 0.2}
	var out G.Value
	for b.Loop() {
		if out, err = op.UsePreallocDo(out, src, dst); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = register(func() *opContract {
	a := smallGraph(nil)
	src, dst := edgeLists(a)
	const heads, slope = 3, 0.2
	return &opContract{
		ops: []string{"GATSoftmax"},
		inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
			return []*tensor.Dense{randDense(rng, dt, a.NumSrc, heads), randDense(rng, dt, a.NumDst, heads)}
		},
		build: func(x, _ []*G.Node) (*G.Node, error) { return GATSoftmax(a, x[0], x[1], slope) },
		ref: func(x [][]float64) []float64 {
			s := make([]float64, 0, heads*len(src))
			for e := range src {
				for h := 0; h < heads; h++ {
					v := x[0][src[e]*heads+h] + x[1][dst[e]*heads+h]
					if v < 0 {
						v *= slope
					}
					s = append(s, v)
				}
			}
			return refEdgeSoftmax(dst, a.NumDst, s, heads)
		},
		bad: []badInput{
			{"slope", func(g *G.ExprGraph) (*G.Node, error) {
				return GATSoftmax(a, matNode(g, tensor.Float32, 7, 2, "s"), matNode(g, tensor.Float32, 6, 2, "d"), -1)
			}, "negative slope"},
			{"rows", func(g *G.ExprGraph) (*G.Node, error) {
				return GATSoftmax(a, matNode(g, tensor.Float32, 6, 2, "s"), matNode(g, tensor.Float32, 6, 2, "d"), 0.2)
			}, "want 7"},
		},
	}
}())

func TestGATSoftmax(t *testing.T) { runContract(t, "GATSoftmax") }
