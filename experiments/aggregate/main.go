// Command aggregate measures forward sum aggregation (N nodes, deg in-neighbours each, F float32
// features) three ways in one run: this framework's op through Gorgonia's tape machine, the same
// op reading the same number of bytes sequentially (the streaming-read bound), and PyTorch's
// torch.sparse.mm on a CSR matrix of the same graph (when /usr/bin/python3 imports torch).
//
//	go run ./experiments/aggregate [-n 100000] [-deg 16] [-f 128] [-repeat 20] [-threads 2] [-seed 1] [-out results/aggregate]
package main

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/experiments/internal/progress"
	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

type timing struct {
	Name  string  `json:"name"`
	P50MS float64 `json:"p50_ms"`
	MinMS float64 `json:"min_ms"`
	GBps  float64 `json:"gbps"`
}

func main() {
	var (
		fl      expenv.Flags
		n       = flag.Int("n", 100000, "nodes")
		deg     = flag.Int("deg", 16, "in-neighbours per node")
		width   = flag.Int("f", 128, "feature width")
		repeat  = flag.Int("repeat", 20, "timed runs after one warm-up")
		threads = flag.Int("threads", 2, "threads for both sides (GOMAXPROCS and torch.set_num_threads)")
		python  = flag.String("python", "/usr/bin/python3", "Python with torch for the peer; empty skips it")
	)
	fl.Register(flag.CommandLine, "results/aggregate")
	flag.Parse()
	if err := run(fl, *n, *deg, *width, *repeat, *threads, *python); err != nil {
		fmt.Fprintln(os.Stderr, "aggregate:", err)
		os.Exit(1)
	}
}

func run(fl expenv.Flags, n, deg, width, repeat, threads int, python string) error {
	if repeat < 1 || threads < 1 {
		return errors.New("-repeat and -threads must be at least 1")
	}
	runtime.GOMAXPROCS(threads)
	env := expenv.Current(fl.Seed)
	a, err := graph.Random(n, deg, fl.Seed)
	if err != nil {
		return err
	}
	gathered := float64(a.NumEdges()) * float64(width) * 4
	rng := rand.New(rand.NewPCG(fl.Seed, 3))

	bar := progress.New("aggregate: timed runs", 2*(repeat+1))
	ours, err := timeSum(a, randomTensor(rng, n, width), repeat, bar)
	if err != nil {
		return err
	}
	ours.Name = "gognn SumAggregate (gather)"
	// The same op over a graph whose rows read consecutive source rows: the same bytes and
	// arithmetic, streamed.
	stream, err := timeSum(sequentialGraph(n, deg), randomTensor(rng, n*deg, width), repeat, bar)
	bar.Done()
	if err != nil {
		return err
	}
	stream.Name = "same bytes, sequential read"
	results := []timing{ours, stream}
	var peerErr error
	if python != "" {
		var peer []timing
		peer, peerErr = runPeer(python, a, width, threads, repeat)
		results = append(results, peer...)
	}
	for i := range results {
		results[i].GBps = gathered / (results[i].P50MS / 1e3) / 1e9
	}

	fmt.Printf("sum aggregation, N=%d, deg=%d, F=%d, float32, %d threads; p50 and min of %d runs\n", n, deg, width, threads, repeat)
	fmt.Println("machine:", env)
	t := expenv.NewTable(os.Stdout)
	t.Header("implementation", "p50 ms", "min ms", "GB/s gathered", "ours / this")
	for _, r := range results {
		t.Append(r.Name, fmt.Sprintf("%.2f", r.P50MS), fmt.Sprintf("%.2f", r.MinMS), fmt.Sprintf("%.1f", r.GBps), fmt.Sprintf("%.2f", ours.P50MS/r.P50MS))
	}
	t.Render()
	if peerErr != nil {
		fmt.Println("PyTorch peer skipped:", peerErr)
	}
	return expenv.WriteJSON(fl.Out, "results.json", map[string]any{
		"n": n, "deg": deg, "f": width, "threads": threads, "results": results, "env": env,
	})
}

// timeSum times the sum aggregation repeat times after a warm-up run, reporting each run to bar
// outside the timed region.
func timeSum(a *graph.CSR, xv *tensor.Dense, repeat int, bar *progress.Bar) (timing, error) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(xv.Shape()...), G.WithValue(xv), G.WithName("x"))
	if _, err := ops.SumAggregate(a, x); err != nil {
		return timing{}, err
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	var times []float64
	for i := 0; i <= repeat; i++ {
		m.Reset()
		t0 := time.Now()
		if err := m.RunAll(); err != nil {
			return timing{}, err
		}
		if i > 0 {
			times = append(times, float64(time.Since(t0).Nanoseconds())/1e6)
		}
		bar.Add(1)
	}
	slices.Sort(times)
	return timing{P50MS: times[len(times)/2], MinMS: times[0]}, nil
}

func sequentialGraph(n, deg int) *graph.CSR {
	rowPtr := make([]int, n+1)
	col := make([]int32, n*deg)
	for i := range col {
		col[i] = int32(i)
	}
	for i := range rowPtr {
		rowPtr[i] = i * deg
	}
	return &graph.CSR{NumSrc: n * deg, NumDst: n, RowPtr: rowPtr, ColIdx: col}
}

// runPeer returns PyTorch's timings, fastest first.
func runPeer(python string, a *graph.CSR, width, threads, repeat int) ([]timing, error) {
	script, err := filepath.Abs(filepath.Join("experiments", "aggregate", "peer_torch.py"))
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("run from the repository root: %w", err)
	}
	dir, err := os.MkdirTemp("", "gognn-peer-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	crow := make([]int64, len(a.RowPtr))
	for i, v := range a.RowPtr {
		crow[i] = int64(v)
	}
	col := make([]int64, len(a.ColIdx))
	for i, v := range a.ColIdx {
		col[i] = int64(v)
	}
	for name, data := range map[string][]int64{"crow.i64": crow, "col.i64": col} {
		var buf bytes.Buffer
		binary.Write(&buf, binary.LittleEndian, data)
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(python, script, dir, fmt.Sprint(a.NumDst), fmt.Sprint(width), fmt.Sprint(threads), fmt.Sprint(repeat))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %s", python, err, lastLine(stderr.String()))
	}
	var res struct {
		Torch   string `json:"torch"`
		Threads int    `json:"threads"`
		Ways    map[string]struct {
			P50MS float64 `json:"p50_ms"`
			MinMS float64 `json:"min_ms"`
		} `json:"ways"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("peer output %q: %v", out, err)
	}
	var ts []timing
	for name, w := range res.Ways {
		ts = append(ts, timing{Name: fmt.Sprintf("PyTorch %s %s (%d threads)", res.Torch, name, res.Threads), P50MS: w.P50MS, MinMS: w.MinMS})
	}
	slices.SortFunc(ts, func(a, b timing) int { return cmp.Compare(a.P50MS, b.P50MS) })
	return ts, nil
}

func lastLine(s string) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	return string(lines[len(lines)-1])
}

func randomTensor(rng *rand.Rand, shape ...int) *tensor.Dense {
	d := make([]float32, tensor.Shape(shape).TotalSize())
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}
