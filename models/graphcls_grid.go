package models

import (
	"errors"
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// GraphGridPoint is one setting of a grid search over graph classifiers: the model its Build
// adds (hidden width, dropout, ...) and the number of graphs per mini-batch it trains with.
type GraphGridPoint struct {
	Build     func(c *nn.Context, b *graph.Batch, x, seg *G.Node) (*G.Node, error)
	BatchSize int
}

// GraphGridResult is GridSearchGraphs' record: every point's history, in the order of the
// points, the chosen point and the held-out accuracy of its model at its selected epoch.
type GraphGridResult struct {
	Histories     []*GraphHistory
	Chosen        int
	SelectedEpoch int     // the chosen point's selected epoch (1-based)
	SelectedAcc   float64 // the held-out accuracy there
}

// GridSearchGraphs trains task once per grid point, with the point's Build and BatchSize in
// place of task's, each from the context newContext(point) returns and with cfg, and chooses a
// point on the validation graphs only (ChooseGraphGridPoint): task.Val must not be empty. The
// held-out graphs (task.Test) are scored as TrainGraphs scores them, for the record, and take
// no part in the choice of the epoch or of the point: this is the model selection inside a
// fold of Errica et al. 2020 ("A fair comparison of graph neural networks for graph
// classification"), without their retraining of the chosen point on the whole fold.
func GridSearchGraphs(newContext func(point int) (*nn.Context, error), task GraphTask, points []GraphGridPoint, cfg TrainConfig) (*GraphGridResult, error) {
	if len(points) == 0 || newContext == nil {
		return nil, errors.New("models: grid search without points or without a context source: give both")
	}
	if len(task.Val) == 0 {
		return nil, errors.New("models: grid search without validation graphs: set GraphTask.Val (a part of the training graphs held out) so that the test graphs are not used to choose")
	}
	r := &GraphGridResult{}
	for i, p := range points {
		c, err := newContext(i)
		if err != nil {
			return nil, err
		}
		t := task
		t.Build, t.BatchSize = p.Build, p.BatchSize
		h, err := TrainGraphs(c, t, cfg)
		if err != nil {
			return nil, fmt.Errorf("grid point %d: %w", i, err)
		}
		r.Histories = append(r.Histories, h)
	}
	var err error
	if r.Chosen, err = ChooseGraphGridPoint(r.Histories); err != nil {
		return nil, err
	}
	h := r.Histories[r.Chosen]
	r.SelectedEpoch, r.SelectedAcc = h.SelectedEpoch, h.SelectedAcc
	return r, nil
}

// ChooseGraphGridPoint returns the index of the history whose selected epoch has the best
// validation accuracy (ValAcc), a tie going to the lower validation loss (ValLoss) there, then
// to the earlier history. It reads SelectedEpoch, ValAcc and ValLoss only, never a held-out
// score. Every history needs a selected epoch (TrainGraphs with validation graphs).
func ChooseGraphGridPoint(hs []*GraphHistory) (int, error) {
	if len(hs) == 0 {
		return 0, errors.New("models: no grid point to choose from")
	}
	best := newBestTracker(true)
	chosen := -1
	for i, h := range hs {
		e := h.SelectedEpoch - 1
		if e < 0 || e >= len(h.ValAcc) || e >= len(h.ValLoss) {
			return 0, fmt.Errorf("models: grid point %d has selected epoch %d of %d validation scores: train it with validation graphs", i, h.SelectedEpoch, len(h.ValAcc))
		}
		if best.observe(h.ValLoss[e], h.ValAcc[e]) {
			chosen = i
		}
	}
	if chosen < 0 {
		return 0, errors.New("models: every grid point has an undefined validation accuracy")
	}
	return chosen, nil
}
