package vecio_test

import (
	"bytes"
	"fmt"

	"github.com/gnnlab/gognn/vecio"
)

// Vectors round-trip through the fvecs format (each record: its dimension, then its values),
// and Recall scores a search's answers against the ground truth.
func Example() {
	var buf bytes.Buffer
	if err := vecio.Encode(&buf, []float32{1, 2, 3, 4, 5, 6}, 3); err != nil {
		panic(err)
	}
	data, n, dim, err := vecio.Decode[float32](&buf, -1)
	if err != nil {
		panic(err)
	}
	fmt.Println(n, "vectors of dimension", dim, data)

	truth := []int32{0, 1, 2, 3} // two queries, the true 2 nearest of each
	found := [][]int{{1, 0}, {2, 9}}
	r, err := vecio.Recall(truth, 2, found, 2)
	if err != nil {
		panic(err)
	}
	fmt.Println("recall@2:", r)
	// Output:
	// 2 vectors of dimension 3 [1 2 3 4 5 6]
	// recall@2: 0.75
}
