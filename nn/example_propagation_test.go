package nn_test

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// A layer that propagates features over the GCN normalisation, as SGC, APPNP and GCNII do: one
// NewGCNPropagation reused for every step, so the normalised graph is derived once.
func ExampleNewGCNPropagation() {
	// 0 <-> 1 and node 2 alone: with self-loops nodes 0 and 1 have degree 2 and node 2 degree 1,
	// so P averages nodes 0 and 1 and keeps node 2.
	a, _ := graph.FromEdges(3, []int{0, 1}, []int{1, 0})
	c, _ := nn.NewContext(tensor.Float64, 1)
	x := c.Constant("x", tensor.New(tensor.WithShape(3, 1), tensor.WithBacking([]float64{2, 4, 3})))
	p := nn.NewGCNPropagation(c)
	h, err := p.Forward(a, x) // P x
	if err == nil {
		h, err = p.Forward(a, h) // P^2 x, over the same normalised graph
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.3f\n", h.Value().Data())
	// Output: [3.000 3.000 3.000]
}
