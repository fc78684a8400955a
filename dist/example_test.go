package dist_test

import (
	"fmt"
	"sync"

	"github.com/gnnlab/gognn/dist"
)

// Two ranks (goroutines here; processes under mpirun with -tags mpi) sum their gradients with an
// all-reduce, as AverageGradients does at every training step.
func Example() {
	group, err := dist.NewGroup(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	sums := make([][]float32, 2)
	var wg sync.WaitGroup
	for _, c := range group {
		wg.Add(1)
		go func() {
			defer wg.Done()
			grad := []float32{float32(c.Rank() + 1), 10} // this rank's gradient
			if err := c.AllReduceSum32(grad); err != nil {
				c.Abort(1)
				return
			}
			sums[c.Rank()] = grad
			c.Close()
		}()
	}
	wg.Wait()
	fmt.Println("rank 0:", sums[0], "rank 1:", sums[1])
	// Output:
	// rank 0: [3 20] rank 1: [3 20]
}
