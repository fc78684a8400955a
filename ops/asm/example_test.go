package asm_test

import (
	"fmt"

	"github.com/gnnlab/gognn/ops/asm"
)

// The gather kernel sums rows of a row-major matrix: here rows 0 and 2 of a 3 x 2 matrix, the
// second weighted by 0.5, as a sum aggregation does for one destination node.
func Example() {
	x := []float32{
		1, 2, // row 0
		3, 4, // row 1
		5, 6, // row 2
	}
	y := make([]float32, 2)
	asm.GatherSumF32(y, x, 2, []int32{0, 2}, []float32{1, 0.5})
	fmt.Println(y)
	fmt.Println(asm.DotF32([]float32{1, 2, 3}, []float32{4, 5, 6}))
	// Output:
	// [3.5 5]
	// 32
}
