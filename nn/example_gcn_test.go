package nn_test

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// A two-layer GCN as a Sequential of layers over a graph: the context owns the parameters by
// name and seeds their initialisation; the layers add their computation to its Gorgonia graph,
// which a tape machine runs.
func Example() {
	a, err := graph.Random(100, 4, 1) // 100 nodes, 4 in-neighbours each
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := nn.NewContext(tensor.Float32, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	x := c.Constant("x", tensor.New(tensor.WithShape(100, 8), tensor.WithBacking(make([]float32, 800))))
	conv1, _ := nn.NewGCNConv(c, "conv1", 8, 16)
	conv2, _ := nn.NewGCNConv(c, "conv2", 16, 3)
	model := nn.Sequential{conv1, nn.Func(nn.ReLU), conv2}
	logits, err := model.Forward(a, x)
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
	for _, p := range model.Learnables() {
		fmt.Println(p.Name(), p.Shape())
	}
	fmt.Println("logits", logits.Shape())
	// Output:
	// conv1.lin.weight (8, 16)
	// conv1.bias (16)
	// conv2.lin.weight (16, 3)
	// conv2.bias (3)
	// logits (100, 3)
}
