package progress_test

import (
	"fmt"
	"os"

	"github.com/gnnlab/gognn/experiments/internal/progress"
)

// buildIndex stands for a library function that takes a progress callback.
func buildIndex(n int, report func(done, total int)) int {
	for i := 1; i <= n; i++ {
		report(i, n) // one vector inserted
	}
	return n
}

// A library function reports through Bar.Report; on a terminal a bar is drawn, elsewhere a line
// every Interval (this work is quicker than that, so nothing is printed but the result).
func Example() {
	bar := progress.NewWriter(os.Stdout, false, "build", 0)
	n := buildIndex(3, bar.Report)
	bar.Done()
	fmt.Println("inserted", n)
	// Output: inserted 3
}
