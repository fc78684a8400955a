// Command child runs one bench op in its own process for the peak-memory column of
// experiments/bench, which builds it and runs it once per row. It links package bench and the
// layers only, not the parent's plotting and table libraries, so its resident set is the op's
// inputs, outputs and temporaries plus the Go runtime and the code that runs. It prints the
// kernel's high-water mark of its resident set (bench.RunChild).
//
//	go run ./experiments/bench/child -op gcn_forward [-n 100000] [-deg 16] [-seed 1] [-threads 2] [-cpuprofile FILE -runs 20]
//
// With -cpuprofile it runs the op -runs times under the CPU profiler.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/gnnlab/gognn/bench"
)

func main() {
	op := flag.String("op", "", "the row to run (one of bench.Ops)")
	n := flag.Int("n", 100000, "nodes")
	deg := flag.Int("deg", 16, "in-neighbours per node")
	seed := flag.Uint64("seed", 1, "seed of the graph, features and labels")
	threads := flag.Int("threads", 2, "GOMAXPROCS")
	prof := flag.String("cpuprofile", "", "write a CPU profile of -runs runs here")
	runs := flag.Int("runs", 20, "runs under the profiler")
	flag.Parse()
	runtime.GOMAXPROCS(*threads)
	cfg := bench.Config{N: *n, Deg: *deg, Seed: *seed}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
		cfg.Warmup = *runs
	}
	if err := bench.RunChild(cfg, *op); err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}
