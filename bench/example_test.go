package bench_test

import (
	"fmt"
	"os"

	"github.com/gnnlab/gognn/bench"
	"github.com/gnnlab/gognn/bench/benchplot"
)

// A notebook's quick version: two small sizes, five runs per row, the table on stdout and the
// log-log plot of time against N.
func Example() {
	rep := &bench.Report{Claims: bench.Claims, PeerNote: "not run"}
	for _, n := range []int{2000, 20000} {
		res, err := bench.Run(bench.Config{N: n, Repeat: 5, Warmup: 1})
		if err != nil {
			fmt.Println(err)
			return
		}
		rep.Results = append(rep.Results, res...)
	}
	rep.WriteTable(os.Stdout)
	if err := benchplot.Scaling(rep, os.TempDir()+"/bench-scaling.png"); err != nil {
		fmt.Println(err)
	}
}
