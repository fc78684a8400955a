package kernels_test

import (
	"fmt"

	"github.com/gnnlab/gognn/internal/kernels"
)

// The gather of neighbour aggregation: y += sum over k of alpha[k] * x[rows[k]], over rows of
// width 4, on whichever backend the CPU chose (kernels.Backend()).
func Example() {
	x := []float32{
		1, 2, 3, 4, // row 0
		10, 20, 30, 40, // row 1
		100, 200, 300, 400, // row 2
	}
	y := make([]float32, 4)
	kernels.GatherSumF32(y, x, 4, []int32{0, 2}, []float32{1, 0.5})
	fmt.Println(y, kernels.DotF32(x[:4], x[:4]))
	// Output:
	// [51 102 153 204] 30
}
