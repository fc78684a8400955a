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

// smallGraph is bipartite (7 sources, 6 destinations) with a duplicate edge, a destination
// without in-edges (3) and a source without out-edges (6).
func smallGraph(t testing.TB) *graph.CSR {
	src := []int{0, 1, 2, 2, 4, 5, 0, 1, 5, 5, 3}
	dst := []int{0, 0, 1, 2, 2, 2, 4, 4, 4, 5, 5}
	g, err := graph.FromBipartiteEdges(7, 6, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, g.NumEdges())
	for e := range w {
		w[e] = 0.25 + float32(e)/8
	}
	g, err = g.WithWeights(w)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func randomWeighted(t testing.TB, n, deg int, seed uint64) *graph.CSR {
	g, err := graph.Random(n, deg, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	w := make([]float32, g.NumEdges())
	for e := range w {
		w[e] = float32(rng.Float64())
	}
	g, err = g.WithWeights(w)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// reference computes an aggregation with plain loops in float64: the oracle for the ops.
func reference(kind string, a *graph.CSR, x []float64, ew []float64, width int) []float64 {
	out := make([]float64, a.NumDst*width)
	for i := 0; i < a.NumDst; i++ {
		lo, hi := a.RowPtr[i], a.RowPtr[i+1]
		for f := 0; f < width; f++ {
			acc := 0.0
			if kind == "max" && hi > lo {
				acc = math.Inf(-1)
			}
			for e := lo; e < hi; e++ {
				v := x[int(a.ColIdx[e])*width+f]
				switch kind {
				case "sum":
					acc += v
				case "mean":
					acc += v / float64(hi-lo)
				case "weighted":
					acc += float64(a.Weights[e]) * v
				case "edge":
					acc += ew[e] * v
				case "max":
					acc = math.Max(acc, v)
				}
			}
			out[i*width+f] = acc
		}
	}
	return out
}

func asFloat64(t *tensor.Dense) []float64 {
	out := make([]float64, t.Len())
	for i := range out {
		out[i] = at(t, i)
	}
	return out
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

// forward runs the op named kind once through a tape machine and returns its output.
func forward(t testing.TB, kind string, a *graph.CSR, in []*tensor.Dense) *tensor.Dense {
	return forwardNodes(t, apply(kind, a), in...)
}
