package blas_test

import (
	"fmt"

	"github.com/gnnlab/gognn/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Use once at start-up; every float32 matrix product of Gorgonia graphs then runs through
// blas.Implementation.Sgemm.
func Example() {
	blas.Use()
	defer G.Use(gonum.Implementation{}) // for the other examples and tests of this package

	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("x"),
		G.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))))
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(3, 2), G.WithName("w"),
		G.WithValue(tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{1, 0, 0, 1, 1, 1}))))
	y := G.Must(G.Mul(x, w))
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(y.Value().Data())
	// Output: [4 5 10 11]
}
