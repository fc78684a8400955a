package models

import (
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

func TestStratifiedFolds(t *testing.T) {
	labels := make([]int, 100)
	for i := 70; i < 100; i++ {
		labels[i] = 1
	}
	folds, err := StratifiedFolds(labels, 10, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	var all []int
	for f, fold := range folds {
		ones := 0
		for _, i := range fold {
			ones += labels[i]
		}
		if len(fold) != 10 || ones != 3 {
			t.Errorf("fold %d: %d items, %d of class 1; want 10 and 3", f, len(fold), ones)
		}
		all = append(all, fold...)
	}
	sort.Ints(all)
	for i, v := range all {
		if v != i {
			t.Fatalf("folds do not partition the items: %v", all)
		}
	}
	if tr := FoldTrain(folds, 3); len(tr) != 90 {
		t.Errorf("training items of fold 3: %d", len(tr))
	}
	if _, err := StratifiedFolds(labels, 1, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("one fold accepted")
	}
}

// ringsAndStars is a set of graphs of 5..9 nodes, rings (class 0) and stars (class 1), with a
// constant feature: only the structure tells them apart.
func ringsAndStars(n int, seed uint64) []LabelledGraph {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := make([]LabelledGraph, n)
	for k := range out {
		size := 5 + rng.IntN(5)
		var src, dst []int
		label := k % 2
		for i := 0; i < size; i++ {
			j := (i + 1) % size
			if label == 1 {
				if i == 0 {
					continue
				}
				j = 0
			}
			src, dst = append(src, i, j), append(dst, j, i)
		}
		g, err := graph.FromEdges(size, src, dst)
		if err != nil {
			panic(err)
		}
		x := make([]float32, size)
		for i := range x {
			x[i] = 1
		}
		out[k] = LabelledGraph{Graph: g.Coalesce(), X: x, Label: label}
	}
	return out
}

// ringsAndStarsFolds is 40 rings and stars dealt into 5 stratified folds.
func ringsAndStarsFolds(seed uint64) ([]LabelledGraph, [][]int) {
	graphs := ringsAndStars(40, seed)
	labels := make([]int, len(graphs))
	for i, g := range graphs {
		labels[i] = g.Label
	}
	folds, err := StratifiedFolds(labels, 5, rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		panic(err)
	}
	return graphs, folds
}

func TestTrainGraphs(t *testing.T) {
	graphs, folds := ringsAndStarsFolds(1)
	for _, tc := range []struct {
		conv      string
		reshuffle bool
	}{{"gin", false}, {"gin", true}, {"gcn", false}} {
		conv, reshuffle := tc.conv, tc.reshuffle
		base, _ := nn.NewContext(tensor.Float32, 4)
		build := func(c *nn.Context, b *graph.Batch, x, seg *G.Node) (*G.Node, error) {
			m, err := NewGraphClassifier(c, conv, 1, 16, 2, 2, 0.5)
			if err != nil {
				return nil, err
			}
			if conv == "gcn" {
				m.Readout = "mean"
			}
			return m.Forward(b, x, seg)
		}
		var calls int
		h, err := TrainGraphs(base, GraphTask{Graphs: graphs, Build: build, Train: FoldTrain(folds, 0), Test: folds[0], BatchSize: 16, Reshuffle: reshuffle},
			TrainConfig{Epochs: 30, LearningRate: 0.01, LRStep: 10, LRGamma: 0.5, Progress: func(Progress) { calls++ }})
		if err != nil {
			t.Fatalf("%s: %v", conv, err)
		}
		// Rings and stars of the same size have the same node count; the degrees differ.
		if h.TestAcc < 0.9 || calls != 30 {
			t.Errorf("%s (reshuffle %v): held-out accuracy %.3f after %d epochs, want >= 0.9", conv, reshuffle, h.TestAcc, calls)
		}
	}
	if _, err := TrainGraphs(nil, GraphTask{Graphs: graphs}, TrainConfig{Epochs: 1, LearningRate: 0.1}); err == nil {
		t.Error("a task without training graphs was accepted")
	}
}

// TestTrainGraphsSelect checks the epoch selection on validation graphs and that the scorers,
// compiled once, score the trained model as a model built afresh does.
func TestTrainGraphsSelect(t *testing.T) {
	graphs, folds := ringsAndStarsFolds(5)
	build := smallGIN
	train := append(append([]int{}, folds[2]...), append(folds[3], folds[4]...)...)
	task := GraphTask{Graphs: graphs, Build: build, Train: train, Val: folds[1], Test: folds[0], BatchSize: 8}
	const epochs = 12
	base, _ := nn.NewContext(tensor.Float32, 7)
	h, err := TrainGraphs(base, task, TrainConfig{Epochs: epochs, LearningRate: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.TestAccs) != epochs || len(h.ValAcc) != epochs || h.SelectedEpoch < 1 || h.SelectedEpoch > epochs {
		t.Fatalf("%d test and %d validation scores, selected epoch %d; want %d, %d and 1..%d", len(h.TestAccs), len(h.ValAcc), h.SelectedEpoch, epochs, epochs, epochs)
	}
	// The selection: the first epoch of the best validation accuracy, ties to the lower loss.
	want := 0
	for e := range h.ValAcc {
		if h.ValAcc[e] > h.ValAcc[want] || (h.ValAcc[e] == h.ValAcc[want] && h.ValLoss[e] < h.ValLoss[want]) {
			want = e
		}
	}
	if h.SelectedEpoch != want+1 || h.SelectedAcc != h.TestAccs[want] {
		t.Errorf("selected epoch %d (held-out %.3f), want %d (%.3f)", h.SelectedEpoch, h.SelectedAcc, want+1, h.TestAccs[want])
	}
	if h.TestAcc != h.TestAccs[epochs-1] {
		t.Errorf("final held-out accuracy %.3f, last epoch's score %.3f", h.TestAcc, h.TestAccs[epochs-1])
	}
	// The validation scorer was compiled after the first epoch; a model built now must agree.
	loss, acc, err := EvalGraphs(base, graphs, folds[1], 3, build)
	if err != nil {
		t.Fatal(err)
	}
	if d := loss - h.ValLoss[epochs-1]; d > 1e-5 || d < -1e-5 || acc != h.ValAcc[epochs-1] {
		t.Errorf("a fresh model scores the validation graphs %.6f / %.3f, the compiled scorer %.6f / %.3f", loss, acc, h.ValLoss[epochs-1], h.ValAcc[epochs-1])
	}
	// Patience stops once the selected epoch is Patience epochs old, and selects the same.
	base, _ = nn.NewContext(tensor.Float32, 7)
	hp, err := TrainGraphs(base, task, TrainConfig{Epochs: epochs, LearningRate: 0.01, Patience: 2})
	if err != nil {
		t.Fatal(err)
	}
	if hp.Epochs < epochs && hp.Epochs != hp.SelectedEpoch+2 {
		t.Errorf("stopped after %d epochs with the selected epoch %d and patience 2", hp.Epochs, hp.SelectedEpoch)
	}
	for e := 0; e < hp.Epochs; e++ {
		if hp.ValAcc[e] != h.ValAcc[e] || hp.TestAccs[e] != h.TestAccs[e] {
			t.Fatalf("epoch %d scores %v/%v with patience, %v/%v without", e+1, hp.ValAcc[e], hp.TestAccs[e], h.ValAcc[e], h.TestAccs[e])
		}
	}
	if _, err := TrainGraphs(base, GraphTask{Graphs: graphs, Build: build, Train: train, Test: folds[0], BatchSize: 8}, TrainConfig{Epochs: 2, LearningRate: 0.01, Patience: 2}); err == nil {
		t.Error("patience without validation graphs was accepted")
	}
	// Overlapping sets are refused.
	task.Val = folds[0]
	if _, err := TrainGraphs(base, task, TrainConfig{Epochs: 1, LearningRate: 0.01}); err == nil {
		t.Error("validation graphs equal to the test graphs were accepted")
	}
}

// TestTrainGraphsSelectByLoss checks the selection of PyTorch Geometric's kernel benchmark:
// every epoch runs, and the fold's figure is the held-out accuracy at the epoch of the
// minimum validation loss, the earliest on ties; the training is the same as with the
// accuracy's selection.
func TestTrainGraphsSelectByLoss(t *testing.T) {
	graphs, folds := ringsAndStarsFolds(5)
	build := smallGIN
	train := append(append([]int{}, folds[2]...), append(folds[3], folds[4]...)...)
	const epochs = 12
	var hs [2]*GraphHistory
	for i, byLoss := range []bool{false, true} {
		base, _ := nn.NewContext(tensor.Float32, 7)
		task := GraphTask{Graphs: graphs, Build: build, Train: train, Val: folds[1], Test: folds[0], BatchSize: 8, SelectByLoss: byLoss}
		h, err := TrainGraphs(base, task, TrainConfig{Epochs: epochs, LearningRate: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		hs[i] = h
	}
	h := hs[1]
	if h.Epochs != epochs || len(h.ValLoss) != epochs || len(h.TestAccs) != epochs {
		t.Fatalf("%d epochs, %d validation losses, %d test scores; want %d each", h.Epochs, len(h.ValLoss), len(h.TestAccs), epochs)
	}
	want := 0
	for e := range h.ValLoss {
		if h.ValLoss[e] < h.ValLoss[want] {
			want = e
		}
	}
	if h.SelectedEpoch != want+1 || h.SelectedAcc != h.TestAccs[want] {
		t.Errorf("selected epoch %d (held-out %.3f), want the minimum validation loss's %d (%.3f); losses %v", h.SelectedEpoch, h.SelectedAcc, want+1, h.TestAccs[want], h.ValLoss)
	}
	for e := 0; e < epochs; e++ {
		if hs[0].ValLoss[e] != h.ValLoss[e] || hs[0].TestAccs[e] != h.TestAccs[e] {
			t.Fatalf("epoch %d: the selection changed the training (%v/%v and %v/%v)", e+1, hs[0].ValLoss[e], hs[0].TestAccs[e], h.ValLoss[e], h.TestAccs[e])
		}
	}
}

// smallGIN builds a two-layer GIN of width 8 over one input feature for two classes.
func smallGIN(c *nn.Context, b *graph.Batch, x, seg *G.Node) (*G.Node, error) {
	m, err := NewGraphClassifier(c, "gin", 1, 8, 2, 2, 0.5)
	if err != nil {
		return nil, err
	}
	return m.Forward(b, x, seg)
}

func TestFoldTrainValRejectsTooFewFolds(t *testing.T) {
	if _, _, err := FoldTrainVal([][]int{{0}, {1}}, 0); err == nil || !strings.Contains(err.Error(), "at least 3 folds") {
		t.Errorf("two folds: %v, want an error asking for at least 3", err)
	}
	if _, _, err := FoldTrainVal([][]int{{0}, {1}, {2}}, 3); err == nil {
		t.Error("fold 3 of 3: no error")
	}
}
