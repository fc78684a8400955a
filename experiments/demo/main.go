// Command demo is the framework's main job: it builds a seeded random graph, runs every
// neighbour aggregation op forward and backward through Gorgonia's tape machine, and prints a
// timing table (also written to <out>/results.json with the machine it ran on).
//
//	go run ./experiments/demo [-n 100000] [-deg 16] [-f 128] [-repeat 5] [-seed 1] [-out results/demo]
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/experiments/internal/expenv"
	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

type row struct {
	Op         string  `json:"op"`
	ForwardMS  float64 `json:"forward_ms"`
	BackwardMS float64 `json:"forward_backward_ms"`
	GBps       float64 `json:"forward_gather_gbps"`
}

func main() {
	var (
		fl     expenv.Flags
		n      = flag.Int("n", 100000, "nodes")
		deg    = flag.Int("deg", 16, "in-neighbours per node")
		width  = flag.Int("f", 128, "feature width")
		repeat = flag.Int("repeat", 5, "timed runs per op (the median is reported)")
	)
	fl.Register(flag.CommandLine, "results/demo")
	flag.Parse()
	if err := run(fl, *n, *deg, *width, *repeat); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(fl expenv.Flags, n, deg, width, repeat int) error {
	if repeat < 1 {
		return errors.New("-repeat must be at least 1")
	}
	env := expenv.Current(fl.Seed)
	start := time.Now()
	a, err := graph.Random(n, deg, fl.Seed)
	if err != nil {
		return err
	}
	gcn, err := a.GCNNorm()
	if err != nil {
		return err
	}
	fmt.Printf("graph: %d nodes, %d edges (in-degree %d), features %d, float32; built in %v\n",
		n, a.NumEdges(), deg, width, time.Since(start).Round(time.Millisecond))
	fmt.Println("machine:", env)

	rng := rand.New(rand.NewPCG(fl.Seed, 2))
	x := randomTensor(rng, n, width)
	att := randomTensor(rng, a.NumEdges())
	type opCase struct {
		name  string
		build func(g *G.ExprGraph, x, w *G.Node) (*G.Node, error)
		graph *graph.CSR
	}
	cases := []opCase{
		{"sum", func(g *G.ExprGraph, x, _ *G.Node) (*G.Node, error) { return ops.SumAggregate(a, x) }, a},
		{"mean", func(g *G.ExprGraph, x, _ *G.Node) (*G.Node, error) { return ops.MeanAggregate(a, x) }, a},
		{"max", func(g *G.ExprGraph, x, _ *G.Node) (*G.Node, error) { return ops.MaxAggregate(a, x) }, a},
		{"weighted (GCN norm)", func(g *G.ExprGraph, x, _ *G.Node) (*G.Node, error) { return ops.WeightedAggregate(gcn, x) }, gcn},
		{"edge-weighted (attention)", func(g *G.ExprGraph, x, w *G.Node) (*G.Node, error) { return ops.EdgeWeightedAggregate(a, x, w) }, a},
	}
	var rows []row
	for _, c := range cases {
		fwd, err := timeOp(c.build, c.graph, x, att, false, repeat)
		if err != nil {
			return fmt.Errorf("%s forward: %w", c.name, err)
		}
		both, err := timeOp(c.build, c.graph, x, att, true, repeat)
		if err != nil {
			return fmt.Errorf("%s backward: %w", c.name, err)
		}
		gathered := float64(c.graph.NumEdges()) * float64(width) * 4
		rows = append(rows, row{c.name, ms(fwd), ms(both), gathered / fwd.Seconds() / 1e9})
	}
	t := expenv.NewTable(os.Stdout)
	t.Header("aggregation", "forward ms", "forward+backward ms", "forward GB/s gathered")
	for _, r := range rows {
		t.Append(r.Op, fmt.Sprintf("%.2f", r.ForwardMS), fmt.Sprintf("%.2f", r.BackwardMS), fmt.Sprintf("%.1f", r.GBps))
	}
	t.Render()
	fmt.Printf("median of %d runs each after one warm-up; forward+backward includes the loss sum(out*R) and its gradient.\n", repeat)
	if err := expenv.WriteJSON(fl.Out, "results.json", map[string]any{
		"n": n, "deg": deg, "f": width, "results": rows, "env": env,
	}); err != nil {
		return err
	}
	fmt.Println("wrote", fl.Out+"/results.json")
	return nil
}

// timeOp builds out = op(x[, w]) and, with backward, loss = sum(out * R) and its gradient with
// respect to x, then times whole tape-machine runs.
func timeOp(build func(g *G.ExprGraph, x, w *G.Node) (*G.Node, error), a *graph.CSR, xv, wv *tensor.Dense, backward bool, repeat int) (time.Duration, error) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(xv.Shape()...), G.WithValue(xv), G.WithName("x"))
	w := G.NewVector(g, tensor.Float32, G.WithShape(wv.Shape()...), G.WithValue(wv), G.WithName("w"))
	out, err := build(g, x, w)
	if err != nil {
		return 0, err
	}
	if backward {
		r := G.NewMatrix(g, tensor.Float32, G.WithShape(out.Shape()...), G.WithInit(G.Ones()), G.WithName("r"))
		loss, err := G.Sum(G.Must(G.HadamardProd(out, r)))
		if err != nil {
			return 0, err
		}
		if _, err := G.Grad(loss, x); err != nil {
			return 0, err
		}
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	times := make([]time.Duration, 0, repeat)
	for i := 0; i <= repeat; i++ {
		m.Reset()
		t0 := time.Now()
		if err := m.RunAll(); err != nil {
			return 0, err
		}
		if i > 0 {
			times = append(times, time.Since(t0))
		}
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

func randomTensor(rng *rand.Rand, shape ...int) *tensor.Dense {
	d := make([]float32, tensor.Shape(shape).TotalSize())
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
