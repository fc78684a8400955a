package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
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

var kinds = []string{"sum", "mean", "weighted", "max", "edge"}

// apply builds the op named kind; for "edge" the edge weights are the second input.
func apply(kind string, a *graph.CSR) buildFunc {
	return func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
		switch kind {
		case "sum":
			return SumAggregate(a, in[0])
		case "mean":
			return MeanAggregate(a, in[0])
		case "weighted":
			return WeightedAggregate(a, in[0])
		case "max":
			return MaxAggregate(a, in[0])
		default:
			return EdgeWeightedAggregate(a, in[0], in[1])
		}
	}
}

func inputsFor(kind string, rng *rand.Rand, dt tensor.Dtype, a *graph.CSR, width int) []*tensor.Dense {
	in := []*tensor.Dense{randDense(rng, dt, a.NumSrc, width)}
	if kind == "max" {
		// Distinct values on a grid wider than the finite-difference step, so a perturbation
		// never changes which neighbour is the maximum.
		n := a.NumSrc * width
		for i, p := range rng.Perm(n) {
			set(in[0], i, 0.05*float64(p-n/2))
		}
	}
	if kind == "edge" {
		in = append(in, randDense(rng, dt, a.NumEdges()))
	}
	return in
}

// forward runs the op named kind once through a tape machine and returns its output.
func forward(t testing.TB, kind string, a *graph.CSR, in []*tensor.Dense) *tensor.Dense {
	return forwardNodes(t, apply(kind, a), in...)
}

func TestForwardMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	graphs := map[string]*graph.CSR{"small": smallGraph(t), "random": randomWeighted(t, 300, 7, 5)}
	for gname, a := range graphs {
		for _, width := range []int{1, 3, 16, 33} {
			for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
				for _, kind := range kinds {
					in := inputsFor(kind, rng, dt, a, width)
					var ew []float64
					if kind == "edge" {
						ew = asFloat64(in[1])
					}
					want := reference(kind, a, asFloat64(in[0]), ew, width)
					got := asFloat64(forward(t, kind, a, in))
					tol := 1e-12
					if dt == tensor.Float32 {
						tol = 1e-5
					}
					for i := range want {
						if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
							t.Fatalf("%s/%s/F=%d/%v: element %d = %v, want %v", gname, kind, width, dt, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

func TestGradients(t *testing.T) {
	graphs := map[string]*graph.CSR{"small": smallGraph(t), "random": randomWeighted(t, 60, 5, 9)}
	for gname, a := range graphs {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			for _, kind := range kinds {
				t.Run(fmt.Sprintf("%s/%s/%v", gname, kind, dt), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(4, 4))
					checkGrad(t, apply(kind, a), inputsFor(kind, rng, dt, a, 4)...)
				})
			}
		}
	}
}

func TestBitIdenticalAcrossWorkerCounts(t *testing.T) {
	a := randomWeighted(t, 3000, 9, 2)
	rng := rand.New(rand.NewPCG(5, 6))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	defer SetMaxWorkers(SetMaxWorkers(0))
	for _, kind := range kinds {
		in := inputsFor(kind, rng, tensor.Float32, a, 40)
		var ref []float32
		for _, w := range []int{1, 2, 3, 8} {
			SetMaxWorkers(w)
			got := forward(t, kind, a, in).Float32s()
			if ref == nil {
				ref = got
				continue
			}
			for i := range ref {
				if math.Float32bits(ref[i]) != math.Float32bits(got[i]) {
					t.Fatalf("%s: %d workers differ from 1 worker at element %d: %v vs %v", kind, w, i, got[i], ref[i])
				}
			}
		}
	}
	// The scatter in max's backward splits by columns: check it too.
	x := randDense(rng, tensor.Float32, a.NumSrc, 40)
	dy := randDense(rng, tensor.Float32, a.NumDst, 40)
	op := &maxGradOp{opBase{name: "max_aggregate_grad", g: a}}
	var ref []float32
	for _, w := range []int{1, 2, 8} {
		SetMaxWorkers(w)
		v, err := op.Do(x, dy)
		if err != nil {
			t.Fatal(err)
		}
		got := v.(*tensor.Dense).Float32s()
		for i := range ref { // none on the first run
			if math.Float32bits(ref[i]) != math.Float32bits(got[i]) {
				t.Fatalf("max backward: %d workers differ at element %d", w, i)
			}
		}
		ref = got
	}
}

// TestRerunAndReset runs forward and backward twice on one machine, the second time into the
// machine's preallocated buffers, and expects identical results (gorgonia/gorgonia#466).
func TestRerunAndReset(t *testing.T) {
	a := randomWeighted(t, 200, 6, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	for _, kind := range kinds {
		in := inputsFor(kind, rng, tensor.Float32, a, 8)
		g := G.NewGraph()
		nodes := make([]*G.Node, len(in))
		for k, v := range in {
			nodes[k] = G.NewTensor(g, v.Dtype(), v.Dims(), G.WithShape(v.Shape()...), G.WithValue(v))
		}
		out, err := apply(kind, a)(g, nodes)
		if err != nil {
			t.Fatal(err)
		}
		loss := G.Must(G.Sum(G.Must(G.Square(out))))
		if _, err := G.Grad(loss, nodes[0]); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(g)
		var runs [2][]float32
		for r := range runs {
			m.Reset()
			if err := m.RunAll(); err != nil {
				t.Fatal(err)
			}
			gv, _ := nodes[0].Grad()
			runs[r] = append([]float32(nil), gv.(*tensor.Dense).Float32s()...)
		}
		m.Close()
		for i := range runs[0] {
			if runs[0][i] != runs[1][i] {
				t.Fatalf("%s: second run differs at gradient element %d", kind, i)
			}
		}
	}
}

func TestBadInputErrors(t *testing.T) {
	a := smallGraph(t)
	g := G.NewGraph()
	wrongRows := G.NewMatrix(g, tensor.Float32, G.WithShape(5, 3), G.WithName("x5"))
	vec := G.NewVector(g, tensor.Float32, G.WithShape(7), G.WithName("v"))
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(7, 3), G.WithName("x"))
	badW := G.NewVector(g, tensor.Float32, G.WithShape(3), G.WithName("w3"))
	unweighted, _ := graph.Random(7, 2, 1)
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"rows", func() error { _, err := SumAggregate(a, wrongRows); return err }, "has 5 rows, want 7"},
		{"vector", func() error { _, err := MaxAggregate(a, vec); return err }, "want a matrix"},
		{"no weights", func() error { _, err := WeightedAggregate(unweighted, x); return err }, "needs edge weights"},
		{"edge count", func() error { _, err := EdgeWeightedAggregate(a, x, badW); return err }, "want (11)"},
		{"nil graph", func() error { _, err := MeanAggregate(nil, x); return err }, "nil graph"},
		{"nil node", func() error { _, err := SumAggregate(a, nil); return err }, "nil input"},
	}
	for _, c := range cases {
		err := c.err()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// Values handed straight to Do are checked too.
	op := newSpmm("sum_aggregate", a)
	if _, err := op.Do(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1, 2, 3, 4}))); err == nil {
		t.Error("Do accepted a 2x2 input for a 7-source graph")
	}
	if _, err := op.Do(tensor.New(tensor.WithShape(7, 1), tensor.WithBacking(make([]int, 7)))); err == nil {
		t.Error("Do accepted an int tensor")
	}
}
