package ops_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// One GCN propagation step, D^-1/2 (A+I) D^-1/2 x, and its gradient.
func ExampleWeightedAggregate() {
	a, err := graph.Random(1000, 16, 1) // every node has 16 in-neighbours
	if err != nil {
		panic(err)
	}
	gcn, err := a.GCNNorm() // D^-1/2 (A+I) D^-1/2 as edge weights
	if err != nil {
		panic(err)
	}

	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(1000, 64), gorgonia.WithInit(gorgonia.Ones()), gorgonia.WithName("x"))
	h, err := ops.WeightedAggregate(gcn, x) // one propagation step
	if err != nil {
		panic(err)
	}
	loss := gorgonia.Must(gorgonia.Sum(h))
	if _, err := gorgonia.Grad(loss, x); err != nil { // backward runs through the op
		panic(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		panic(err)
	}
	fmt.Println(h.Shape())
	// Output: (1000, 64)
}

// Scoring node pairs whose indices change every epoch, as a link-prediction loop does with
// fresh negative samples: the index is an input of the compiled graph, not part of it.
func ExampleIndexSelect() {
	g := gorgonia.NewGraph()
	emb := tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float64{0, 1, 1, 0, 1, 1, 2, 0}))
	z := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(4, 2), gorgonia.WithValue(emb), gorgonia.WithName("z"))
	src := ops.NewIndex(g, "src", 3)
	dst := ops.NewIndex(g, "dst", 3)
	zs, err := ops.IndexSelect(z, src)
	if err != nil {
		panic(err)
	}
	zd, err := ops.IndexSelect(z, dst)
	if err != nil {
		panic(err)
	}
	// The score of pair k is <z[src[k]], z[dst[k]]>.
	score := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.HadamardProd(zs, zd)), 1))
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	for _, pairs := range [][2][]int{{{0, 1, 2}, {1, 2, 3}}, {{3, 3, 0}, {2, 0, 2}}} {
		if err := ops.SetIndex(src, pairs[0]); err != nil {
			panic(err)
		}
		if err := ops.SetIndex(dst, pairs[1]); err != nil {
			panic(err)
		}
		m.Reset()
		if err := m.RunAll(); err != nil {
			panic(err)
		}
		fmt.Println(score.Value().Data())
	}
	// Output:
	// [0 1 2]
	// [2 0 1]
}
