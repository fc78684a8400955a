package bench_test

import (
	"fmt"
	"os"

	"github.com/gnnlab/gognn/bench"
	"github.com/gnnlab/gognn/bench/benchplot"
)

// Time two rows on a small graph. Each result carries its analytic FLOP count (2 E F for the
// mean over E = 8000 edges of 128 features), so GFLOPS follows from the median time.
func Example() {
	res, err := bench.Run(bench.Config{N: 1000, Deg: 8, Repeat: 3, Warmup: 1, Ops: []string{"aggregate_mean", "gcn_forward"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		fmt.Printf("%s on %d nodes: %.0f FLOPs, %d timed runs, p50 > 0: %v\n", r.Op, r.N, r.FLOPs, r.Runs, r.P50MS > 0)
	}
	// Output:
	// aggregate_mean on 1000 nodes: 2048000 FLOPs, 3 timed runs, p50 > 0: true
	// gcn_forward on 1000 nodes: 17600000 FLOPs, 3 timed runs, p50 > 0: true
}

// A notebook's quick version: two small sizes, five runs per row, the table on stdout and the
// log-log plot of time against N.
func Example_scaling() {
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
