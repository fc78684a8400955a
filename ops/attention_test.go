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

// forwardNodes runs build once on the given input values and returns a copy of its output.
func forwardNodes(t testing.TB, build buildFunc, in ...*tensor.Dense) *tensor.Dense {
	g := G.NewGraph()
	nodes := make([]*G.Node, len(in))
	for k, v := range in {
		// Named: Gorgonia merges unnamed inputs of equal type and shape into one node.
		nodes[k] = G.NewTensor(g, v.Dtype(), v.Dims(), G.WithShape(v.Shape()...), G.WithValue(v), G.WithName(fmt.Sprintf("in%d", k)))
	}
	out, err := build(g, nodes)
	if err != nil {
		t.Fatal(err)
	}
	var val G.Value
	G.Read(out, &val)
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return val.(*tensor.Dense)
}

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

func TestLogSoftmax(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		x := randDense(rng, dt, 5, 4)
		set(x, 0, 500) // a large logit must not overflow
		got := asFloat64(forwardNodes(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return LogSoftmax(in[0]) }, x))
		xv := asFloat64(x)
		for i := 0; i < 5; i++ {
			m := math.Inf(-1)
			for c := 0; c < 4; c++ {
				m = math.Max(m, xv[i*4+c])
			}
			s := 0.0
			for c := 0; c < 4; c++ {
				s += math.Exp(xv[i*4+c] - m)
			}
			for c := 0; c < 4; c++ {
				want := xv[i*4+c] - m - math.Log(s)
				if math.Abs(got[i*4+c]-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("%v: y[%d][%d] = %v, want %v", dt, i, c, got[i*4+c], want)
				}
			}
		}
		checkGrad(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return LogSoftmax(in[0]) }, randDense(rng, dt, 6, 3))
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
