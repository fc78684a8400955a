package quant_test

import (
	"fmt"

	"github.com/gnnlab/gognn/quant"
)

// A 2 x 2 weight matrix quantized to INT8 with one scale per column, and dequantized back:
// each value comes back within half a scale step.
func Example() {
	w := []float32{
		0.5, -2.0,
		-1.0, 1.0,
	}
	q, scales := quant.QuantizeInt8(w, 2, 2)
	back := make([]float32, len(w))
	quant.DequantizeInt8(back, q, scales, 2, 2)
	fmt.Println("codes:", q)
	fmt.Printf("scales: %.5f\n", scales)
	fmt.Printf("back: %.3f\n", back)
	// Output:
	// codes: [64 -127 -127 64]
	// scales: [0.00787 0.01575]
	// back: [0.504 -2.000 -1.000 1.008]
}
