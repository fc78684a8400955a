package progress_test

import (
	"os"

	"github.com/gnnlab/gognn/experiments/internal/progress"
)

// A loop reports each step; on a terminal a bar is drawn, elsewhere a line every five seconds.
func Example() {
	bar := progress.NewWriter(os.Stdout, false, "work", 3)
	for range 3 {
		bar.Add(1) // one step done
	}
	bar.Done() // quick work: nothing was printed
	// Output:
}
