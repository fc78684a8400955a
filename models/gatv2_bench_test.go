package models

import (
	"os"
	"syscall"
	"testing"
	"time"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/blas"
	"github.com/gnnlab/gognn/datasets"
	"github.com/gnnlab/gognn/nn"
)

// epochRunner runs training epochs of a model as Train does (forward, backward, Adam step,
// then an evaluation pass), one at a time.
type epochRunner struct {
	c      *nn.Context
	m      G.VM
	eval   *Evaluator
	solver G.Solver
	params G.Nodes
}

func newEpochRunner(tb testing.TB, ds *datasets.Planetoid, build func(c *nn.Context) (Model, error)) *epochRunner {
	f := ds.Features
	c, _ := nn.NewContext(tensor.Float32, 1)
	m, err := build(c)
	if err != nil {
		tb.Fatal(err)
	}
	x, err := nn.NewSparseFeatures(c, f.Rows, f.Cols, f.RowPtr, f.ColIdx, f.Values)
	if err != nil {
		tb.Fatal(err)
	}
	logits, err := m.Forward(c, ds.Graph, x)
	if err != nil {
		tb.Fatal(err)
	}
	loss, logProbs, err := c.CrossEntropy(logits, ds.Labels, ds.Train)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := G.Grad(loss, m.Learnables()...); err != nil {
		tb.Fatal(err)
	}
	return &epochRunner{c: c, m: G.NewTapeMachine(c.Graph), eval: NewEvaluator(c, logProbs),
		solver: G.NewAdamSolver(G.WithLearnRate(0.005), G.WithL2Reg(5e-4)), params: m.Learnables()}
}

func (r *epochRunner) epoch(tb testing.TB) {
	r.c.SetTraining(true)
	if err := r.c.Refresh(); err != nil {
		tb.Fatal(err)
	}
	r.m.Reset()
	if err := r.m.RunAll(); err != nil {
		tb.Fatal(err)
	}
	if err := r.solver.Step(G.NodesToValueGrads(r.params)); err != nil {
		tb.Fatal(err)
	}
	if _, err := r.eval.Logits(); err != nil {
		tb.Fatal(err)
	}
}

func cpuTime() time.Duration {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// BenchmarkCoraEpochGATv2 times training epochs (forward, backward, Adam step and an evaluation
// pass) of the fused GAT and of GATv2 on the message-passing path, with its fused score op
// (gatv2) and with general per-edge ops for the scores (gatv2general), with the paper's Cora
// setting (8 heads x 8, dropout 0.6), alternating one epoch of each so that all see the same
// machine load; it reports each one's wall and CPU milliseconds per epoch and the ratios to GAT.
// All three multiply with the project's SGEMM (blas.Use), as experiments/citation does.
// It needs the Planetoid files:
//
//	GNN_DATA=/work/shared/datasets go test ./models -run - -bench CoraEpochGATv2 -benchtime 50x
func BenchmarkCoraEpochGATv2(b *testing.B) {
	if os.Getenv("GNN_DATA") == "" {
		b.Skip("set GNN_DATA to the data directory (with planetoid/ind.cora.*)")
	}
	blas.Use() // the SGEMM the experiments train with (benchmarks run after every test)
	ds, err := datasets.LoadPlanetoid("cora", datasets.Dir(datasets.DataDir("")))
	if err != nil {
		b.Fatal(err)
	}
	arch := Architecture{Model: "gat", In: ds.Features.Cols, Hidden: 8, Heads: 8, Classes: ds.NumClasses, OutHeads: 1, Dropout: 0.6}
	gat := newEpochRunner(b, ds, func(c *nn.Context) (Model, error) { return NewGAT(c, arch) })
	gatv2 := newEpochRunner(b, ds, func(c *nn.Context) (Model, error) { return NewGATv2(c, arch) })
	general := newEpochRunner(b, ds, func(c *nn.Context) (Model, error) {
		m, err := NewGATv2(c, arch)
		if err == nil {
			m.Conv1.Cfg.GeneralScores, m.Conv2.Cfg.GeneralScores = true, true
		}
		return m, err
	})
	runners := []*epochRunner{gat, gatv2, general}
	names := []string{"gat", "gatv2", "gatv2general"}
	for _, r := range runners {
		r.epoch(b) // warm up: first-run allocations
	}
	var wall, cpu [3]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k, r := range runners {
			w0, c0 := time.Now(), cpuTime()
			r.epoch(b)
			wall[k] += time.Since(w0)
			cpu[k] += cpuTime() - c0
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 / float64(b.N) }
	for k, name := range names {
		b.ReportMetric(ms(wall[k]), name+"-ms/epoch")
		b.ReportMetric(ms(cpu[k]), name+"-cpu-ms/epoch")
		if k > 0 {
			b.ReportMetric(float64(wall[k])/float64(wall[0]), name+"/gat-wall")
			b.ReportMetric(float64(cpu[k])/float64(cpu[0]), name+"/gat-cpu")
		}
	}
}
