package ops

import (
	"math/rand/v2"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// testIndex repeats rows, skips row 5 of a 7-row input and leaves outputs 4, 5, 7 and 8 of a
// 9-row scatter empty.
var testIndex = []int{6, 0, 0, 3, 2, 6, 1}

var _ = register(&opContract{
	ops: []string{"IndexSelect"},
	inputs: func(rng *rand.Rand, dt tensor.Dtype) []*tensor.Dense {
		return []*tensor.Dense{randDense(rng, dt, 7, 4)}
	},
	index: [][]int{testIndex},
	build: func(x, idx []*G.Node) (*G.Node, error) { return IndexSelect(x[0], idx[0]) },
	ref:   func(x [][]float64) []float64 { return refGather(testIndex, x[0], 4, false, 7) },
	bad: []badInput{
		{"index range", func(g *G.ExprGraph) (*G.Node, error) {
			return IndexSelect(matNode(g, tensor.Float32, 7, 2, "x"), indexNode(g, "i", []int{0, 7}))
		}, "index 7 at position 1 is out of range [0, 7)"},
		{"index dtype", func(g *G.ExprGraph) (*G.Node, error) {
			return IndexSelect(matNode(g, tensor.Float32, 7, 2, "x"), vecNode(g, tensor.Float64, 2, "i"))
		}, "want a 1-D tensor.Int"},
		{"x vector", func(g *G.ExprGraph) (*G.Node, error) {
			return IndexSelect(vecNode(g, tensor.Float32, 7, "x"), indexNode(g, "i", []int{0}))
		}, "want a matrix"},
		{"nil index", func(g *G.ExprGraph) (*G.Node, error) {
			return IndexSelect(matNode(g, tensor.Float32, 7, 2, "x"), nil)
		}, "nil idx"},
	},
})

func TestIndexSelect(t *testing.T) { runContract(t, "IndexSelect") }

// TestIndexChangesBetweenRuns replaces the index values of a compiled graph, as a
// link-prediction loop re-sampling negatives does, and checks forward and backward follow.
func TestIndexChangesBetweenRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	xv := randDense(rng, tensor.Float64, 30, 3)
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 2, G.WithShape(30, 3), G.WithValue(xv), G.WithName("x"))
	idx := NewIndex(g, "idx", 50)
	sel, err := IndexSelect(x, idx)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ScatterAdd(sel, idx, 30)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(G.Must(G.Sum(back)), x); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	for epoch := 0; epoch < 3; epoch++ {
		v := make([]int, 50)
		for k := range v {
			v[k] = rng.IntN(30)
		}
		if err := SetIndex(idx, v); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		x64 := asFloat64(xv)
		want := refScatter("sum", v, 30, refGather(v, x64, 3, false, 30), 3)
		if k := firstDiff(want, asFloat64(back.Value().(*tensor.Dense))); k >= 0 {
			t.Fatalf("epoch %d: element %d differs from the reference", epoch, k)
		}
		// d sum(scatter(gather(x)))/dx[j] = count of j in v.
		gv, _ := x.Grad()
		d := asFloat64(gv.(*tensor.Dense))
		count := make([]float64, 30)
		for _, j := range v {
			count[j]++
		}
		for j := range count {
			if d[3*j] != count[j] {
				t.Fatalf("epoch %d: gradient of row %d = %v, want %v", epoch, j, d[3*j], count[j])
			}
		}
	}
	if err := SetIndex(idx, []int{1, 2}); err == nil || !strings.Contains(err.Error(), "keeps the length") {
		t.Errorf("SetIndex with the wrong length: %v", err)
	}
	if err := SetIndex(x, make([]int, 90)); err == nil {
		t.Error("SetIndex accepted a float node")
	}
	// The index gets no gradient, and asking for one is Gorgonia's error, not a panic.
	if _, err := G.Grad(G.Must(G.Sum(back)), idx); err == nil {
		t.Error("Grad with respect to an index input succeeded")
	}
}
