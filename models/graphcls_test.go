package models

import (
	"math/rand/v2"
	"sort"
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

func TestTrainGraphs(t *testing.T) {
	graphs := ringsAndStars(40, 1)
	labels := make([]int, len(graphs))
	for i, g := range graphs {
		labels[i] = g.Label
	}
	folds, _ := StratifiedFolds(labels, 5, rand.New(rand.NewPCG(2, 2)))
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
