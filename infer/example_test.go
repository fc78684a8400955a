package infer_test

import (
	"bytes"
	"fmt"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/infer"
	"github.com/gnnlab/gognn/modelfile"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
)

// A GCN built (and, in a real program, trained) with package models is saved to bytes, loaded
// without Gorgonia and run on a graph of four nodes with two features each.
func Example() {
	arch := models.Architecture{Model: "gcn", In: 2, Hidden: 4, Classes: 3}
	c, _ := nn.NewContext(tensor.Float32, 1)
	m, err := models.Build(c, arch)
	if err != nil {
		fmt.Println(err)
		return
	}
	var file bytes.Buffer
	if err := models.SaveTo(&file, arch, m.Learnables(), modelfile.FP32); err != nil {
		fmt.Println(err)
		return
	}

	model, err := infer.Load(&file)
	if err != nil {
		fmt.Println(err)
		return
	}
	g, _ := graph.FromEdges(4, []int{0, 1, 2, 3}, []int{1, 2, 3, 0}) // a directed ring
	x := []float32{1, 0, 0, 1, 1, 1, 0, 0}                           // (4, 2), row-major
	logits, err := model.Forward(g, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %d logits, %d per node\n", model.Arch.Model, len(logits), model.Arch.Classes)
	// Output: gcn: 12 logits, 3 per node
}
