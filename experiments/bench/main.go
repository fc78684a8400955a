// Command bench measures the framework's GNN workloads (package bench: mean aggregation, GCN,
// GAT, GATv2 and GIN on the edge-level ops, and two-layer GraphSAGE forward passes, GCN and
// GraphSAGE training steps) on a seeded
// random graph with every node of in-degree -deg and 128 float32 features, at N = 10,000, -n
// and 1,000,000 nodes, next to a plain-PyTorch peer on the same inputs (when /usr/bin/python3
// imports torch) and the seed project's claimed numbers. Peak memory is measured per op in a
// child process, experiments/bench/child, which the command builds first with the go command
// (a lean binary: the op's code without this command's plotting and tables).
//
//	go run ./experiments/bench [-quick] [-n 100000] [-deg 16] [-repeat 20] [-threads 2] [-python /usr/bin/python3] [-out results/bench]
//
// Without -quick it takes about half an hour on 2 cores: 20 timed runs per row at every size,
// every PyTorch variant at 10,000 and -n nodes, PyTorch's fastest way at 1,000,000. -quick times
// 5 runs per row, skips N = 1,000,000 and times only PyTorch's fastest way (3 runs): about two
// minutes. Writes <out>/table.md, <out>/results.json and <out>/scaling.png (time against N per
// op, log-log).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gnnlab/gognn/bench"
	"github.com/gnnlab/gognn/bench/benchplot"
	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/experiments/internal/progress"
	"github.com/gnnlab/gognn/internal/atomicfile"
)

func main() {
	var (
		fl      expenv.Flags
		quick   = flag.Bool("quick", false, "5 timed runs per row and no N = 1,000,000: about a minute")
		n       = flag.Int("n", 100000, "nodes of the main size (also run: 10,000 and, without -quick, 1,000,000)")
		deg     = flag.Int("deg", 16, "in-neighbours per node")
		repeat  = flag.Int("repeat", 20, "timed runs per row after warm-up (-quick: 5)")
		threads = flag.Int("threads", 2, "threads for both sides (GOMAXPROCS and torch.set_num_threads)")
		python  = flag.String("python", "/usr/bin/python3", "Python with torch for the peer; empty skips it")
		opsFlag = flag.String("ops", strings.Join(bench.Ops, ","), "comma-separated rows to run")
	)
	fl.Register(flag.CommandLine, "results/bench")
	flag.Parse()
	runtime.GOMAXPROCS(*threads)
	useBLAS()
	if err := run(fl, *quick, *n, *deg, *repeat, *threads, *python, strings.Split(*opsFlag, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(fl expenv.Flags, quick bool, n, deg, repeat, threads int, python string, ops []string) error {
	repeatSet := false
	flag.Visit(func(f *flag.Flag) { repeatSet = repeatSet || f.Name == "repeat" })
	if quick && !repeatSet {
		repeat = 5
	}
	sizes := []int{10000, n, 1000000}
	if quick {
		sizes = sizes[:2]
	}
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	tmp, err := os.MkdirTemp("", "gognn-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	child := filepath.Join(tmp, "bench-child")
	if out, err := exec.Command("go", "build", "-o", child, "github.com/gnnlab/gognn/experiments/bench/child").CombinedOutput(); err != nil {
		return fmt.Errorf("building the peak-memory child (go build ./experiments/bench/child, from the module): %v: %s", err, out)
	}
	env := expenv.Current(fl.Seed)
	load, _ := os.ReadFile("/proc/loadavg")
	rep := &bench.Report{Claims: bench.Claims, Env: map[string]any{"machine": env, "blas": blasName, "threads": threads, "repeat": repeat, "quick": quick, "loadavg_at_start": strings.TrimSpace(string(load))}}
	rep.Notes = append(rep.Notes, fmt.Sprintf("Timed runs per row: %d after warm-up (2 warm-up runs; 1 at N = 1,000,000). Load average at start: %s (other jobs share the machine).", repeat, strings.TrimSpace(string(load))))
	fmt.Println("machine:", env, "| BLAS:", blasName)
	start := time.Now()
	bar := progress.New("bench: measured rows", len(sizes)*len(ops))
	defer bar.Done()
	for _, size := range sizes {
		cfg := bench.Config{N: size, Deg: deg, Seed: fl.Seed, Repeat: repeat, Ops: ops}
		if size > 100000 {
			// At a million nodes a run takes seconds: one warm-up run is enough.
			cfg.Warmup = 1
		}
		in, err := bench.NewInputs(cfg)
		if err != nil {
			return err
		}
		for _, op := range ops {
			r, err := bench.Measure(in, op)
			if err != nil {
				return err
			}
			// Hand the op's memory back to the OS now, not over the next minutes: the peak
			// children and PyTorch run beside this process (at N = 1,000,000 a training step's
			// heap is gigabytes).
			debug.FreeOSMemory()
			args := []string{"-op", op, "-n", fmt.Sprint(size), "-deg", fmt.Sprint(deg), "-seed", fmt.Sprint(fl.Seed), "-threads", fmt.Sprint(threads)}
			if r.PeakMB, err = bench.PeakRSS(child, args...); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "N=%d %-16s p50 %9.2f ms  min %9.2f ms  %6.1f GFLOP/s  peak %6.0f MB  %5.0f allocs/run  (%.0fs)\n",
				size, op, r.P50MS, r.MinMS, r.GFLOPS, r.PeakMB, r.AllocsPerRun, time.Since(start).Seconds())
			rep.Results = append(rep.Results, r)
			bar.Add(1) // after the timed runs, never inside them
			if op == "gcn_forward" {
				fp := bench.Footprint(cfg, op)
				rep.Notes = append(rep.Notes, fmt.Sprintf("N=%d gcn_forward: peak %.0f MB = %.2fx the %.0f MB of its input, output, graph and weights.",
					size, r.PeakMB, r.PeakMB*1e6/fp, fp/1e6))
			}
		}
		if python == "" {
			rep.PeerNote = "not run (-python empty)"
		} else if rep.PeerNote == "" {
			po := bench.PeerOptions{Python: python, Script: filepath.Join("experiments", "bench", "peers", "peer_torch.py"),
				Threads: threads, Repeat: repeat, Warmup: 2, Ops: ops}
			switch {
			case quick:
				// PyTorch's fastest ways here (the others take minutes): the sparse CSR product,
				// and for GAT the scatter form.
				po.Repeat, po.Warmup, po.Variants, po.Budget = 3, 1, []string{"fast"}, 5
			case size > 100000:
				// PyTorch's fastest way only: its others take minutes per run at this size.
				po.Warmup, po.Variants, po.Budget = 1, []string{"fast"}, 20
			}
			p, err := bench.RunPeer(in, po)
			if err != nil {
				rep.PeerNote = "PyTorch peer not run: " + err.Error()
				fmt.Fprintln(os.Stderr, rep.PeerNote)
			} else {
				rep.AddPeer(p)
				fmt.Fprintf(os.Stderr, "N=%d PyTorch peer done (%.0fs)\n", size, time.Since(start).Seconds())
			}
		}
		// What is measured so far survives an interrupted run.
		if err := expenv.WriteJSON(fl.Out, "results.json", rep); err != nil {
			return err
		}
	}
	fmt.Printf("N nodes with %d in-neighbours each, 128 float32 features, %d threads, %d timed runs per row\n", deg, threads, repeat)
	if err := rep.WriteTable(os.Stdout); err != nil {
		return err
	}
	for _, note := range rep.Notes {
		fmt.Println(note)
	}
	if rep.PeerNote != "" {
		fmt.Println(rep.PeerNote)
	}
	if err := expenv.WriteJSON(fl.Out, "results.json", rep); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(fl.Out, "table.md"), []byte(rep.Markdown()), 0o644); err != nil {
		return err
	}
	if err := benchplot.Scaling(rep, filepath.Join(fl.Out, "scaling.png")); err != nil {
		return err
	}
	fmt.Println("wrote", filepath.Join(fl.Out, "table.md"), filepath.Join(fl.Out, "results.json"), filepath.Join(fl.Out, "scaling.png"))
	return nil
}
