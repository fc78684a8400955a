package vecmath_test

import (
	"fmt"

	"github.com/gnnlab/gognn/internal/vecmath"
)

// Cosine similarity as hnsw and search compute it: normalise both vectors once, then a dot
// product.
func Example() {
	a, b := []float32{3, 4}, []float32{4, 3}
	na, nb := make([]float32, 2), make([]float32, 2)
	vecmath.Normalize(na, a, vecmath.SquaredNorm(a))
	vecmath.Normalize(nb, b, vecmath.SquaredNorm(b))
	fmt.Printf("cosine %.2f, squared L2 %.0f\n", vecmath.Dot(na, nb), vecmath.L2Squared(a, b))
	// Output:
	// cosine 0.96, squared L2 2
}
