package ops

import (
	"math/rand/v2"
	"strconv"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

func itoa(i int) string { return strconv.Itoa(i) }

func scatterContract(name, kind string, op func(a *graph.CSR, m *G.Node) (*G.Node, error)) *opContract {
	a := smallGraph(nil)
	_, dst := edgeLists(a)
	E := a.NumEdges()
	return &opContract{
		ops: []string{name},
		inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
			return []*tensor.Dense{distinctDense(rng, dt, E, 5)}
		},
		build: func(x, _ []*G.Node) (*G.Node, error) { return op(a, x[0]) },
		ref:   func(x [][]float64) []float64 { return refScatter(kind, dst, a.NumDst, x[0], 5) },
		bad: []badInput{
			{"rows", func(g *G.ExprGraph) (*G.Node, error) { return op(a, matNode(g, tensor.Float64, E-1, 3, "m")) }, "has 10 rows, want 11"},
			{"vector", func(g *G.ExprGraph) (*G.Node, error) { return op(a, vecNode(g, tensor.Float64, E, "m")) }, "want a matrix"},
			{"nil graph", func(g *G.ExprGraph) (*G.Node, error) { return op(nil, matNode(g, tensor.Float64, E, 3, "m")) }, "nil graph"},
		},
	}
}

var (
	_ = register(scatterContract("ScatterSum", "sum", ScatterSum))
	_ = register(scatterContract("ScatterMean", "mean", ScatterMean))
	_ = register(scatterContract("ScatterMax", "max", ScatterMax))
	_ = register(&opContract{
		ops: []string{"ScatterAdd"},
		inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
			return []*tensor.Dense{randDense(rng, dt, len(testIndex), 4)}
		},
		index: [][]int{testIndex},
		build: func(x, idx []*G.Node) (*G.Node, error) { return ScatterAdd(x[0], idx[0], 9) },
		ref:   func(x [][]float64) []float64 { return refScatter("sum", testIndex, 9, x[0], 4) },
		bad: []badInput{
			{"index range", func(g *G.ExprGraph) (*G.Node, error) {
				return ScatterAdd(matNode(g, tensor.Float32, 3, 2, "s"), indexNode(g, "i", []int{0, 9, 1}), 9)
			}, "index 9 at position 1 is out of range [0, 9)"},
			{"negative index", func(g *G.ExprGraph) (*G.Node, error) {
				return ScatterAdd(matNode(g, tensor.Float32, 3, 2, "s"), indexNode(g, "i", []int{0, -1, 1}), 9)
			}, "out of range"},
			{"index length", func(g *G.ExprGraph) (*G.Node, error) {
				return ScatterAdd(matNode(g, tensor.Float32, 4, 2, "s"), indexNode(g, "i", []int{0, 1, 1}), 9)
			}, "src has 4 rows, want 3"},
			{"index dtype", func(g *G.ExprGraph) (*G.Node, error) {
				return ScatterAdd(matNode(g, tensor.Float32, 3, 2, "s"), vecNode(g, tensor.Float32, 3, "i"), 9)
			}, "want a 1-D tensor.Int"},
			{"n", func(g *G.ExprGraph) (*G.Node, error) {
				return ScatterAdd(matNode(g, tensor.Float32, 3, 2, "s"), indexNode(g, "i", []int{0, 1, 1}), -2)
			}, "want n >= 0"},
		},
	})
)

func TestScatterSum(t *testing.T)  { runContract(t, "ScatterSum") }
func TestScatterMean(t *testing.T) { runContract(t, "ScatterMean") }
func TestScatterMax(t *testing.T)  { runContract(t, "ScatterMax") }
func TestScatterAdd(t *testing.T)  { runContract(t, "ScatterAdd") }

// TestScatterMaxTies checks the documented tie rule: the whole gradient goes to the first edge
// in edge order that attains the maximum.
func TestScatterMaxTies(t *testing.T) {
	a := smallGraph(t) // destination 2 has edges 3, 4, 5
	m := tensor.New(tensor.WithShape(a.NumEdges(), 1), tensor.WithBacking(make([]float64, a.NumEdges())))
	m.Float64s()[4], m.Float64s()[5] = 2, 2
	g := G.NewGraph()
	mn := G.NewTensor(g, tensor.Float64, 2, G.WithShape(a.NumEdges(), 1), G.WithValue(m), G.WithName("m"))
	out, err := ScatterMax(a, mn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(G.Must(G.Sum(out)), mn); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	gv, _ := mn.Grad()
	d := gv.(*tensor.Dense).Float64s()
	if d[4] != 1 || d[5] != 0 || d[3] != 0 {
		t.Errorf("gradient on edges 3..5 = %v, want [0 1 0] (first maximum in edge order)", d[3:6])
	}
}
