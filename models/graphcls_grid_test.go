package models

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

func TestChooseGraphGridPoint(t *testing.T) {
	// hist is a history of three epochs with the given validation scores at the selected
	// epoch 2 and a held-out accuracy there that the choice must not read.
	hist := func(valAcc, valLoss, testAcc float64) *GraphHistory {
		h := &GraphHistory{SelectedEpoch: 2, SelectedAcc: testAcc, TestAccs: []float64{0, testAcc, 0}}
		h.ValAcc = []float64{0, valAcc, 1}
		h.ValLoss = []float64{9, valLoss, 0}
		return h
	}
	for _, tc := range []struct {
		name string
		hs   []*GraphHistory
		want int
	}{
		{"best validation accuracy, not best held-out", []*GraphHistory{hist(0.8, 0.3, 1), hist(0.9, 0.5, 0.2), hist(0.7, 0.1, 0.9)}, 1},
		{"tie to the lower validation loss", []*GraphHistory{hist(0.9, 0.5, 1), hist(0.9, 0.4, 0), hist(0.9, 0.6, 1)}, 1},
		{"full tie to the earlier point", []*GraphHistory{hist(0.9, 0.4, 0), hist(0.9, 0.4, 1)}, 0},
		{"undefined accuracy loses", []*GraphHistory{hist(math.NaN(), 0.1, 1), hist(0.5, 0.7, 0)}, 1},
	} {
		got, err := ChooseGraphGridPoint(tc.hs)
		if err != nil || got != tc.want {
			t.Errorf("%s: chose %d (%v), want %d", tc.name, got, err, tc.want)
		}
	}
	for name, hs := range map[string][]*GraphHistory{
		"none":               nil,
		"no selected epoch":  {{}},
		"epoch out of range": {{SelectedEpoch: 4, History: History{ValAcc: []float64{1}, ValLoss: []float64{1}}}},
		"all undefined":      {hist(math.NaN(), 0, 1)},
	} {
		if _, err := ChooseGraphGridPoint(hs); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestGridSearchGraphsIgnoresTest runs one grid search twice, the second time with the
// labels of the held-out graphs flipped: the held-out accuracies change, the validation scores
// and the choice must not.
func TestGridSearchGraphsIgnoresTest(t *testing.T) {
	graphs, folds := ringsAndStarsFolds(9)
	train := append(append([]int{}, folds[2]...), append(folds[3], folds[4]...)...)
	point := func(hidden, batch int, dropout float64) GraphGridPoint {
		return GraphGridPoint{BatchSize: batch, Build: func(c *nn.Context, b *graph.Batch, x, seg *G.Node) (*G.Node, error) {
			m, err := NewGraphClassifier(c, "gin", 1, hidden, 2, 2, dropout)
			if err != nil {
				return nil, err
			}
			return m.Forward(b, x, seg)
		}}
	}
	points := []GraphGridPoint{point(2, 16, 0.5), point(8, 8, 0), point(4, 8, 0.5)}
	search := func(gs []LabelledGraph) *GraphGridResult {
		t.Helper()
		task := GraphTask{Graphs: gs, Train: train, Val: folds[1], Test: folds[0]}
		r, err := GridSearchGraphs(func(int) (*nn.Context, error) { return nn.NewContext(tensor.Float32, 3) }, task, points, TrainConfig{Epochs: 6, LearningRate: 0.01})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := search(graphs)
	flipped := append([]LabelledGraph(nil), graphs...)
	for _, i := range folds[0] {
		flipped[i].Label = 1 - flipped[i].Label
	}
	b := search(flipped)
	if a.Chosen != b.Chosen {
		t.Errorf("chose point %d, %d with the held-out labels flipped", a.Chosen, b.Chosen)
	}
	for p := range points {
		ha, hb := a.Histories[p], b.Histories[p]
		if ha.SelectedEpoch != hb.SelectedEpoch {
			t.Errorf("point %d: selected epoch %d, %d with the held-out labels flipped", p, ha.SelectedEpoch, hb.SelectedEpoch)
		}
		for e := range ha.ValAcc {
			if ha.ValAcc[e] != hb.ValAcc[e] || ha.ValLoss[e] != hb.ValLoss[e] {
				t.Fatalf("point %d epoch %d: validation %v/%v, %v/%v with the held-out labels flipped", p, e+1, ha.ValAcc[e], ha.ValLoss[e], hb.ValAcc[e], hb.ValLoss[e])
			}
			// Two classes: flipping every held-out label complements the accuracy, so the
			// second run did read other held-out labels.
			if d := ha.TestAccs[e] + hb.TestAccs[e] - 1; math.Abs(d) > 1e-9 {
				t.Fatalf("point %d epoch %d: held-out accuracy %v, %v with the labels flipped", p, e+1, ha.TestAccs[e], hb.TestAccs[e])
			}
		}
	}
	want, _ := ChooseGraphGridPoint(a.Histories)
	h := a.Histories[want]
	if a.Chosen != want || a.SelectedEpoch != h.SelectedEpoch || a.SelectedAcc != h.SelectedAcc {
		t.Errorf("result: point %d, epoch %d, accuracy %v; its histories say %d, %d, %v", a.Chosen, a.SelectedEpoch, a.SelectedAcc, want, h.SelectedEpoch, h.SelectedAcc)
	}
	if _, err := GridSearchGraphs(func(int) (*nn.Context, error) { return nn.NewContext(tensor.Float32, 3) },
		GraphTask{Graphs: graphs, Train: train, Test: folds[0]}, points, TrainConfig{Epochs: 1, LearningRate: 0.01}); err == nil {
		t.Error("a grid search without validation graphs was accepted")
	}
}
