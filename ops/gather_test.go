package ops

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

func gatherContract(name string, dstSide bool) *opContract {
	a := smallGraph(nil)
	src, dst := edgeLists(a)
	rows, nodes := src, a.NumSrc
	if dstSide {
		rows, nodes = dst, a.NumDst
	}
	op := GatherSrc
	if dstSide {
		op = GatherDst
	}
	return &opContract{
		ops: []string{name},
		inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
			return []*tensor.Dense{randDense(rng, dt, nodes, 5)}
		},
		build: func(x, _ []*G.Node) (*G.Node, error) { return op(a, x[0]) },
		ref:   func(x [][]float64) []float64 { return refGather(rows, x[0], 5, false, nodes) },
		bad: []badInput{
			{"rows", func(g *G.ExprGraph) (*G.Node, error) { return op(a, matNode(g, tensor.Float32, nodes+1, 3, "x")) }, "want " + itoa(nodes)},
			{"vector", func(g *G.ExprGraph) (*G.Node, error) { return op(a, vecNode(g, tensor.Float32, nodes, "x")) }, "want a matrix"},
			{"dtype", func(g *G.ExprGraph) (*G.Node, error) { return op(a, matNode(g, tensor.Int, nodes, 3, "x")) }, "want float32 or float64"},
			{"nil graph", func(g *G.ExprGraph) (*G.Node, error) { return op(nil, matNode(g, tensor.Float32, nodes, 3, "x")) }, "nil graph"},
			{"nil node", func(g *G.ExprGraph) (*G.Node, error) { return op(a, nil) }, "nil x"},
		},
	}
}

var (
	_ = register(gatherContract("GatherSrc", false))
	_ = register(gatherContract("GatherDst", true))
)

func TestGatherSrc(t *testing.T) { runContract(t, "GatherSrc") }
func TestGatherDst(t *testing.T) { runContract(t, "GatherDst") }

// TestGatherScatterMessagePassing checks the composition a message-passing layer lowers to,
// ScatterSum(GatherSrc(x)), against SumAggregate on a larger random graph, and that nodes
// without edges are handled on both sides.
func TestGatherScatterMessagePassing(t *testing.T) {
	a, err := graph.Random(500, 6, 8)
	if err != nil {
		t.Fatal(err)
	}
	x := randDense(rand.New(rand.NewPCG(1, 1)), tensor.Float32, 500, 24)
	viaEdges := forwardNodes(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) {
		m, err := GatherSrc(a, in[0])
		if err != nil {
			return nil, err
		}
		return ScatterSum(a, m)
	}, x)
	fused := forwardNodes(t, func(g *G.ExprGraph, in []*G.Node) (*G.Node, error) { return SumAggregate(a, in[0]) }, x)
	if k := firstDiff(asFloat64(viaEdges), asFloat64(fused)); k >= 0 {
		t.Fatalf("ScatterSum(GatherSrc(x)) differs from SumAggregate(x) at element %d", k)
	}
}

// TestNoEdges runs the gather/scatter pair forward and backward on a graph without edges and
// an empty index: empty edge matrices, zero node rows, zero gradients, no panic.
func TestNoEdges(t *testing.T) {
	a, err := graph.FromEdges(3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	xv := randDense(rand.New(rand.NewPCG(1, 1)), tensor.Float64, 3, 2)
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 2, G.WithShape(3, 2), G.WithValue(xv), G.WithName("x"))
	m, err := GatherSrc(a, x)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ScatterMax(a, m)
	if err != nil {
		t.Fatal(err)
	}
	idx := NewIndex(g, "idx", 0)
	sel, err := IndexSelect(x, idx)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ScatterAdd(sel, idx, 3)
	if err != nil {
		t.Fatal(err)
	}
	loss := G.Must(G.Add(G.Must(G.Sum(s)), G.Must(G.Sum(back))))
	if _, err := G.Grad(loss, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*G.Node{s, back} {
		for _, v := range asFloat64(n.Value().(*tensor.Dense)) {
			if v != 0 {
				t.Fatalf("%s: %v, want zeros", n.Name(), n.Value())
			}
		}
	}
	gv, _ := x.Grad()
	for _, v := range asFloat64(gv.(*tensor.Dense)) {
		if v != 0 {
			t.Fatalf("gradient %v, want zeros", gv)
		}
	}
}
