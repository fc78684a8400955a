package topics_test

import (
	"fmt"
	"math"

	"github.com/gnnlab/gognn/experiments/internal/topics"
)

// The corpus is seeded: the same arguments give the same unit vectors and hidden topics.
func Example() {
	vecs, topic := topics.Corpus(6, 4, 2, 0.3, 1)
	again, _ := topics.Corpus(6, 4, 2, 0.3, 1)
	var norm float64
	for _, x := range vecs[0] {
		norm += float64(x) * float64(x)
	}
	fmt.Println(len(vecs), "vectors of dimension", len(vecs[0]), "topics in [0, 2):", topic[0] >= 0 && topic[0] < 2)
	fmt.Printf("unit length: %.3f\n", math.Sqrt(norm))
	fmt.Println("same seed, same corpus:", fmt.Sprint(vecs) == fmt.Sprint(again))
	// Output:
	// 6 vectors of dimension 4 topics in [0, 2): true
	// unit length: 1.000
	// same seed, same corpus: true
}
