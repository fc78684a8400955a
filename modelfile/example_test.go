package modelfile_test

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gnnlab/gognn/modelfile"
)

// A model hands over its weights and the hyper-parameters needed to rebuild it; a loader reads
// the architecture first and then the weights, here dequantised from INT8 (each value within
// half a step, max|column|/254, of what was written; the bias is kept in float32).
func Example() {
	dir, err := os.MkdirTemp("", "modelfile-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "gcn.gnn")

	type arch struct {
		Model           string
		In, Hidden, Out int
	}
	w := make([]float32, 4*3)
	for i := range w {
		w[i] = float32(i) / 10
	}
	tensors := []modelfile.Tensor{
		{Name: "gcn1.lin.weight", Shape: []int{4, 3}, Data: w},
		{Name: "gcn1.bias", Shape: []int{3}, Data: []float32{0.5, -0.25, 1}},
	}
	if err := modelfile.Write(path, arch{"gcn", 4, 3, 3}, tensors, modelfile.INT8); err != nil {
		log.Fatal(err)
	}

	f, values, err := modelfile.Read(path)
	if err != nil {
		log.Fatal(err)
	}
	var a arch
	if err := json.Unmarshal(f.Architecture, &a); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %d->%d->%d, %s\n", a.Model, a.In, a.Hidden, a.Out, f.Precision)
	for _, t := range f.Tensors {
		fmt.Printf("%s %s %v at %d: %.3f\n", t.Name, t.DType, t.Shape, t.Offset, values[t.Name])
	}
	// Output:
	// gcn 4->3->3, int8
	// gcn1.lin.weight int8 [4 3] at 320: [0.000 0.102 0.199 0.298 0.402 0.502 0.602 0.701 0.797 0.900 1.000 1.100]
	// gcn1.bias float32 [3] at 384: [0.500 -0.250 1.000]
}

// Node features too large for memory are written row by row and mapped; Row and Data are
// slices of the mapping, which the gather kernels of ops/asm read directly.
func ExampleOpenMatrix() {
	dir, err := os.MkdirTemp("", "modelfile-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "features.mat")
	err = modelfile.WriteMatrix(path, 1000, 4, func(i int, row []float32) error {
		for j := range row {
			row[j] = float32(i*10 + j)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	m, err := modelfile.OpenMatrix(path)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	fmt.Println(m.Rows(), m.Cols(), m.Row(999), len(m.Data()))
	// Output: 1000 4 [9990 9991 9992 9993] 4000
}
