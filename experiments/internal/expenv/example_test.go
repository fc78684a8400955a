package expenv_test

import (
	"fmt"
	"os"

	"github.com/gnnlab/gognn/experiments/internal/expenv"
)

// Accuracies over seeds are reported as mean ± sample standard deviation, in a table.
func Example() {
	mean, std := expenv.MeanStd([]float64{0.80, 0.82, 0.81})
	t := expenv.NewTable(os.Stdout)
	t.Header("model", "test accuracy")
	t.Append("GCN", fmt.Sprintf("%.1f ± %.1f", 100*mean, 100*std))
	t.Render()
	// Output:
	// ┌───────┬───────────────┐
	// │ model │ test accuracy │
	// ├───────┼───────────────┤
	// │ GCN   │ 81.0 ± 1.0    │
	// └───────┴───────────────┘
}
