package datasets_test

import (
	"fmt"

	"github.com/gnnlab/gognn/datasets"
)

// Split labelled nodes as Shchur et al. do for the NPZ graphs: per class, 2 nodes for training
// and 1 for validation, the rest for testing; class 2 has too few nodes and is left out.
func Example() {
	labels := []int{0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2}
	train, val, test, dropped, err := datasets.RandomSplit(labels, 3, 2, 1, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("train", len(train), "val", len(val), "test", len(test), "dropped classes", dropped)
	// Output:
	// train 4 val 2 test 3 dropped classes [2]
}
