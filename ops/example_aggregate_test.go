package ops_test

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// The mean over in-neighbours of a three-node graph as a Gorgonia op, and its gradient: node 2
// averages nodes 0 and 1, node 0 copies node 2, node 1 has no in-neighbours and gets zeros.
func Example() {
	a, err := graph.FromEdges(3, []int{0, 1, 2}, []int{2, 2, 0}) // 0 -> 2, 1 -> 2, 2 -> 0
	if err != nil {
		fmt.Println(err)
		return
	}
	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(3, 2), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{1, 2, 3, 4, 5, 6}))))
	h, err := ops.MeanAggregate(a, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := gorgonia.Grad(gorgonia.Must(gorgonia.Sum(h)), x); err != nil {
		fmt.Println(err)
		return
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	grad, _ := x.Grad()
	fmt.Println("mean:", h.Value().Data())
	fmt.Println("d sum / dx:", grad.Data())
	// Output:
	// mean: [5 6 0 0 2 3]
	// d sum / dx: [0.5 0.5 0.5 0.5 1 1]
}
