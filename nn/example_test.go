package nn_test

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// Which neighbours did node 1 attend to? A one-head GAT layer on a small graph, with the
// attention coefficients read after a forward pass.
func ExampleGATConv_NodeAttention() {
	// 0 -> 1, 2 -> 1, 3 -> 1: node 1 has three in-neighbours (and a self-loop the layer adds).
	a, _ := graph.FromEdges(4, []int{0, 2, 3}, []int{1, 1, 1})
	c, _ := nn.NewContext(tensor.Float64, 1)
	gat, _ := nn.NewGATConv(c, "gat", nn.GATConfig{In: 2, Out: 2, Heads: 1, NegativeSlope: 0.2})
	x := c.Constant("x", tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float64{1, 0, 0, 1, 2, 2, -1, 0})))
	if _, err := gat.Forward(a, x); err != nil {
		fmt.Println(err)
		return
	}
	var alpha G.Value
	G.Read(gat.Attention(), &alpha)
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	c.SetTraining(false)
	c.Refresh()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	src, weights, _ := gat.NodeAttention(alpha, 1)
	sum := 0.0
	for k, j := range src {
		fmt.Printf("node %d: %.3f\n", j, weights[k][0])
		sum += weights[k][0]
	}
	fmt.Printf("sum: %.3f\n", sum)
	// Output:
	// node 0: 0.121
	// node 1: 0.102
	// node 2: 0.701
	// node 3: 0.076
	// sum: 1.000
}
