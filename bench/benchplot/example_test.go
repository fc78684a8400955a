package benchplot_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gnnlab/gognn/bench"
	"github.com/gnnlab/gognn/bench/benchplot"
)

// Draw the scaling figure of a report: the median time of each op against the number of nodes,
// on log-log axes, into a PNG file.
func Example() {
	rep := &bench.Report{}
	for _, n := range []int{1000, 10000, 100000} {
		rep.Results = append(rep.Results,
			bench.Result{Op: "aggregate_mean", N: n, Deg: 16, P50MS: float64(n) / 20000},
			bench.Result{Op: "gcn_forward", N: n, Deg: 16, P50MS: float64(n) / 5000})
	}
	dir, err := os.MkdirTemp("", "benchplot")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "scaling.png")
	if err := benchplot.Scaling(rep, path); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(path)
	fmt.Printf("%s written: %q\n", filepath.Base(path), b[1:4])
	// Output:
	// scaling.png written: "PNG"
}
