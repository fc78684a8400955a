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
