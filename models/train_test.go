package models

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// quadratic is a Problem minimising sum(w^2) from w = (1, 2, 3), whose validation losses are
// scripted.
func quadratic(t *testing.T, val []float64) (Problem, *G.Node, *int) {
	c, err := nn.NewContext(tensor.Float64, 1)
	if err != nil {
		t.Fatal(err)
	}
	w := G.NewVector(c.Graph, tensor.Float64, G.WithShape(3), G.WithName("w"), G.WithValue(tensor.New(tensor.WithBacking([]float64{1, 2, 3}))))
	loss := G.Must(G.Sum(G.Must(G.Square(w))))
	p, closeFn, err := FullGraph(c, loss, G.Nodes{w}, DecayAll, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeFn() })
	epoch := new(int)
	p.Validate = func() (float64, float64, error) {
		v := val[min(*epoch, len(val)-1)]
		*epoch++
		return v, -v, nil
	}
	return p, w, epoch
}

func TestFitWindowPatienceProgress(t *testing.T) {
	// Window 2 stops at the first epoch (after the second) whose loss exceeds the mean of the
	// two before it: epoch 4 (loss 3.6 > (3+3.4)/2).
	p, _, _ := quadratic(t, []float64{5, 4, 3, 3.4, 3.6, 9})
	var seen []Progress
	h, err := Fit(p, TrainConfig{Epochs: 50, LearningRate: 0.1, Window: 2, Progress: func(pr Progress) { seen = append(seen, pr) }})
	if err != nil {
		t.Fatal(err)
	}
	if h.Epochs != 5 || len(seen) != 5 || seen[4].Epoch != 5 || seen[4].ValLoss != 3.6 || seen[0].TrainLoss != 14 {
		t.Fatalf("stopped after %d epochs, progress %+v", h.Epochs, seen)
	}
	if h.TrainLoss[4] >= h.TrainLoss[0] {
		t.Errorf("training loss did not fall: %v", h.TrainLoss)
	}

	// Patience 2 stops two epochs after the best (epoch 2) and restores its parameters.
	p, w, _ := quadratic(t, []float64{5, 4, 1, 3, 3, 3})
	var atBest []float64
	p2 := p
	p2.Validate = func() (float64, float64, error) {
		l, s, err := p.Validate()
		if l == 1 {
			atBest = append([]float64(nil), w.Value().Data().([]float64)...)
		}
		return l, s, err
	}
	h, err = Fit(p2, TrainConfig{Epochs: 50, LearningRate: 0.1, Patience: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := w.Value().Data().([]float64)
	if h.Epochs != 5 || atBest == nil || got[0] != atBest[0] || got[2] != atBest[2] {
		t.Errorf("patience: %d epochs, parameters %v, at the best epoch %v", h.Epochs, got, atBest)
	}
}

func TestFitLRSchedule(t *testing.T) {
	p, _, _ := quadratic(t, []float64{1})
	var lrs []float64
	if _, err := Fit(p, TrainConfig{Epochs: 7, LearningRate: 0.08, LRStep: 3, LRGamma: 0.5, Progress: func(pr Progress) { lrs = append(lrs, pr.LearningRate) }}); err != nil {
		t.Fatal(err)
	}
	want := []float64{0.08, 0.08, 0.08, 0.04, 0.04, 0.04, 0.02}
	for i := range want {
		if math.Abs(lrs[i]-want[i]) > 1e-15 {
			t.Fatalf("learning rates %v, want %v", lrs, want)
		}
	}
	if _, err := Fit(Problem{Step: p.Step}, TrainConfig{Epochs: 3, LearningRate: 0.1, Patience: 1}); err == nil {
		t.Error("patience without Validate was accepted")
	}
}

// TestTrainSampledHonoursWindow: sampled training used to ignore TrainConfig.Window.
func TestTrainSampledHonoursWindow(t *testing.T) {
	a, feats, labels, train, val, test := communities(150, 3, 5)
	base, _ := nn.NewContext(tensor.Float32, 3)
	build := func(c *nn.Context, blocks []graph.Block) (*G.Node, error) {
		m, err := NewSAGE(c, len(feats[0]), 8, 3, nn.MeanAggr, 0.5)
		if err != nil {
			return nil, err
		}
		return m.Forward(c, blocks, gatherDense(c, feats, blocks[0].SrcIDs))
	}
	var calls int
	h, err := TrainSampled(base, SampledTask{Graph: a, Build: build, Labels: labels, Train: train, Val: val, Test: test},
		SampledConfig{TrainConfig: TrainConfig{Epochs: 400, LearningRate: 0.05, Window: 3, Progress: func(Progress) { calls++ }}, Fanouts: []int{5, 5}, BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if h.Epochs >= 400 || calls != h.Epochs {
		t.Errorf("ran %d of 400 epochs with Window 3 (%d progress calls)", h.Epochs, calls)
	}
	w := 3
	e := h.Epochs - 1
	mean := (h.ValLoss[e-1] + h.ValLoss[e-2] + h.ValLoss[e-3]) / float64(w)
	if h.ValLoss[e] <= mean {
		t.Errorf("stopped at epoch %d with validation loss %v <= window mean %v", e, h.ValLoss[e], mean)
	}
}
