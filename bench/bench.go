package bench

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// Ops are the rows of the benchmark, in the order they are run and reported.
var Ops = []string{"aggregate_mean", "gcn_forward", "gat_forward", "gatv2_forward", "gin_forward", "sage2_forward", "gcn2_train_step", "sage2_train_step"}

// Config sets up one benchmark run.
type Config struct {
	N, Deg  int    // nodes and in-neighbours per node (default 100000 and 16)
	F       int    // input feature width (default 128)
	Hidden  int    // hidden width (default 64)
	Classes int    // classes of the training rows (default 16)
	Seed    uint64 // graph, features, labels and weights (default 1)
	Repeat  int    // timed runs (default 20)
	Warmup  int    // untimed runs first (default 2)
	// MaxSeconds, when positive, stops the timed runs of a row once they have taken that long
	// and at least 5 ran (for the largest graphs on a slow machine); Result.Runs says how many.
	MaxSeconds float64
	Ops        []string
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.N, 100000)
	def(&c.Deg, 16)
	def(&c.F, 128)
	def(&c.Hidden, 64)
	def(&c.Classes, 16)
	def(&c.Repeat, 20)
	def(&c.Warmup, 2)
	if c.Seed == 0 {
		c.Seed = 1
	}
	if len(c.Ops) == 0 {
		c.Ops = Ops
	}
	return c
}

// Result is one measured row.
type Result struct {
	Op     string  `json:"op"`
	N      int     `json:"n"`
	Deg    int     `json:"deg"`
	P50MS  float64 `json:"p50_ms"`
	MinMS  float64 `json:"min_ms"`
	GFLOPS float64 `json:"gflops"` // FLOPs / p50
	PeakMB float64 `json:"peak_mb"`
	// FLOPs is the analytic count of one run (see the package documentation).
	FLOPs float64 `json:"flops"`
	Runs  int     `json:"runs"`
	// AllocsPerRun and BytesPerRun are the Go heap allocations of one run in steady state.
	AllocsPerRun float64 `json:"allocs_per_run"`
	BytesPerRun  float64 `json:"bytes_per_run"`
}

// Inputs are the data every op of a run reads: the graph, the features and the labels.
type Inputs struct {
	Graph  *graph.CSR
	X      *tensor.Dense // (N, F) float32
	Labels []int         // in [0, Classes)
	Cfg    Config
}

// NewInputs generates the seeded graph, features (uniform in [-1, 1)) and labels of cfg.
func NewInputs(cfg Config) (*Inputs, error) {
	cfg = cfg.withDefaults()
	a, err := graph.Random(cfg.N, cfg.Deg, cfg.Seed)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 2))
	x := make([]float32, cfg.N*cfg.F)
	for i := range x {
		x[i] = float32(rng.Float64()*2 - 1)
	}
	labels := make([]int, cfg.N)
	for i := range labels {
		labels[i] = rng.IntN(cfg.Classes)
	}
	return &Inputs{
		Graph:  a,
		X:      tensor.New(tensor.WithShape(cfg.N, cfg.F), tensor.WithBacking(x)),
		Labels: labels,
		Cfg:    cfg,
	}, nil
}

// Run measures every op of cfg.Ops on one set of inputs and returns a row per op. Peak memory
// is left at zero: it needs a process per op (PeakRSS).
func Run(cfg Config) ([]Result, error) {
	cfg = cfg.withDefaults()
	in, err := NewInputs(cfg)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, op := range cfg.Ops {
		r, err := Measure(in, op)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Measure builds op on the inputs, runs it Warmup times, then times Repeat runs.
func Measure(in *Inputs, op string) (Result, error) {
	cfg := in.Cfg
	if cfg.Repeat < 1 {
		return Result{}, errors.New("bench: Repeat must be at least 1")
	}
	w, err := Build(in, op)
	if err != nil {
		return Result{}, err
	}
	defer w.Close()
	for i := 0; i < cfg.Warmup; i++ {
		if err := w.Run(); err != nil {
			return Result{}, fmt.Errorf("bench: %s: %w", op, err)
		}
	}
	times := make([]float64, 0, cfg.Repeat)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	for len(times) < cfg.Repeat {
		if cfg.MaxSeconds > 0 && len(times) >= 5 && time.Since(start).Seconds() > cfg.MaxSeconds {
			break
		}
		t0 := time.Now()
		if err := w.Run(); err != nil {
			return Result{}, fmt.Errorf("bench: %s: %w", op, err)
		}
		times = append(times, float64(time.Since(t0).Nanoseconds())/1e6)
	}
	runtime.ReadMemStats(&after)
	slices.Sort(times)
	r := Result{
		Op: op, N: cfg.N, Deg: cfg.Deg,
		P50MS: median(times), MinMS: times[0], Runs: len(times),
		FLOPs:        w.FLOPs,
		AllocsPerRun: float64(after.Mallocs-before.Mallocs) / float64(len(times)),
		BytesPerRun:  float64(after.TotalAlloc-before.TotalAlloc) / float64(len(times)),
	}
	r.GFLOPS = r.FLOPs / (r.P50MS / 1e3) / 1e9
	if bad := w.CheckFinite(); bad != nil {
		return r, fmt.Errorf("bench: %s: %w", op, bad)
	}
	return r, nil
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func finite32(v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("output element %d is %v", i, x)
		}
	}
	return nil
}
