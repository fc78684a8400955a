package models

import (
	"errors"
	"fmt"
	"math"
	"time"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/nn"
)

// TrainConfig sets up semi-supervised node-classification training.
type TrainConfig struct {
	Epochs       int     // maximum epochs
	LearningRate float64 // Adam step size
	WeightDecay  float64 // L2 penalty added to the gradient of the Decayed parameters (as torch's Adam weight_decay)
	// Window, when > 0, stops training as Kipf & Welling do: after epoch Window, stop once the
	// validation loss exceeds the mean of the previous Window epochs' validation losses.
	Window int
	// Patience, when > 0, stops after Patience epochs without a new best validation score and
	// restores the parameters of the best epoch.
	Patience int
	// ByAccuracy makes the validation score of Patience the accuracy (a tie goes to the lower
	// loss) instead of the loss. With sampled training the validation loss can reach its
	// minimum long before the accuracy stops rising, as the model grows confident on the few
	// nodes it gets wrong.
	ByAccuracy bool
	// PatienceOnEither restarts Patience whenever the validation accuracy or the validation
	// loss reaches its best so far (ties included), as APPNP's authors stop; the parameters kept
	// are still those of the best score.
	PatienceOnEither bool
}

// bestTracker keeps the best validation score of early stopping.
type bestTracker struct {
	byAcc bool
	loss  float64
	acc   float64
	since int

	either          bool    // PatienceOnEither
	minLoss, maxAcc float64 // the best of each score, for either
}

func newBestTracker(byAcc bool) *bestTracker {
	return &bestTracker{byAcc: byAcc, loss: math.Inf(1), acc: math.Inf(-1), minLoss: math.Inf(1), maxAcc: math.Inf(-1)}
}

// observe records one epoch's validation loss and accuracy and reports whether it is a new best.
func (b *bestTracker) observe(loss, acc float64) bool {
	better := loss < b.loss
	if b.byAcc {
		better = acc > b.acc || (acc == b.acc && loss < b.loss)
	}
	if b.either {
		if loss <= b.minLoss || acc >= b.maxAcc {
			b.since = -1
		}
		b.minLoss, b.maxAcc = min(b.minLoss, loss), max(b.maxAcc, acc)
	}
	if better {
		b.loss, b.acc, b.since = loss, acc, 0
		return true
	}
	b.since++
	return false
}

// Task is what a model is trained on: its graph is already built in the context.
type Task struct {
	Logits    *G.Node // (nodes, classes) output of the model
	Params    G.Nodes // every learnable parameter
	Decayed   G.Nodes // the subset that gets weight decay (nil: none)
	Labels    []int   // per node
	Train     []int   // nodes whose labels train the model
	Val, Test []int   // nodes for early stopping and for the final score

	// Decays give parameters a weight decay of their own in place of TrainConfig.WeightDecay
	// (GCNII decays its convolutions and its dense layers differently).
	Decays []Decay
}

// Decay is a weight decay for a set of parameters.
type Decay struct {
	Params      G.Nodes
	WeightDecay float64
}

// History is what training recorded, per epoch and at the end.
type History struct {
	TrainLoss, ValLoss, ValAcc []float64
	Epochs                     int     // epochs run
	ValAccFinal, TestAcc       float64 // of the returned model, in evaluation mode
	MsPerEpoch                 float64 // wall time of one training step plus one evaluation
}

// Train fits the model with Adam and returns its history; the parameters hold the trained
// model afterwards. The same context seed gives bit-identical histories.
func Train(c *nn.Context, task Task, cfg TrainConfig) (*History, error) {
	if cfg.Epochs <= 0 || cfg.LearningRate <= 0 {
		return nil, fmt.Errorf("models: train with %d epochs and learning rate %v: both must be positive", cfg.Epochs, cfg.LearningRate)
	}
	if len(task.Params) == 0 {
		return nil, errors.New("models: nothing to train: no parameters")
	}
	loss, logProbs, err := c.CrossEntropy(task.Logits, task.Labels, task.Train)
	if err != nil {
		return nil, err
	}
	if _, err := G.Grad(loss, task.Params...); err != nil {
		return nil, fmt.Errorf("models: building gradients: %w", err)
	}
	var lossVal G.Value
	G.Read(loss, &lossVal)
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	// Evaluation needs only the forward pass: a machine over the subgraph that ends at the
	// log-probabilities skips the loss and every gradient.
	eval := NewEvaluator(c, logProbs)
	defer eval.Close()

	// One Adam solver per weight decay, each stepping its parameters in Params order.
	decayOf := map[*G.Node]float64{}
	for _, n := range task.Decayed {
		decayOf[n] = cfg.WeightDecay
	}
	for _, d := range task.Decays {
		for _, n := range d.Params {
			decayOf[n] = d.WeightDecay
		}
	}
	type group struct {
		params G.Nodes
		solver G.Solver
	}
	var groups []*group
	byDecay := map[float64]*group{}
	for _, n := range task.Params {
		wd := decayOf[n]
		g := byDecay[wd]
		if g == nil {
			opts := []G.SolverOpt{G.WithLearnRate(cfg.LearningRate)}
			if wd != 0 {
				opts = append(opts, G.WithL2Reg(wd))
			}
			g = &group{solver: G.NewAdamSolver(opts...)}
			byDecay[wd] = g
			groups = append(groups, g)
		}
		g.params = append(g.params, n)
	}

	step := func() (float64, error) {
		c.SetTraining(true)
		if err := c.Refresh(); err != nil {
			return 0, err
		}
		m.Reset()
		if err := m.RunAll(); err != nil {
			return 0, err
		}
		return scalar(lossVal), nil
	}
	evaluate := eval.Logits

	h := &History{}
	tracker := newBestTracker(cfg.ByAccuracy)
	tracker.either = cfg.PatienceOnEither
	var bestParams []G.Value
	start := time.Now()
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		trainLoss, err := step()
		if err != nil {
			return nil, err
		}
		if math.IsNaN(trainLoss) || math.IsInf(trainLoss, 0) {
			return nil, fmt.Errorf("models: training loss is %v at epoch %d", trainLoss, epoch)
		}
		for _, g := range groups {
			if err := g.solver.Step(G.NodesToValueGrads(g.params)); err != nil {
				return nil, err
			}
		}
		lp, err := evaluate()
		if err != nil {
			return nil, err
		}
		vl := nn.NLL(lp, task.Labels, task.Val)
		h.TrainLoss = append(h.TrainLoss, trainLoss)
		h.ValLoss = append(h.ValLoss, vl)
		h.ValAcc = append(h.ValAcc, nn.Accuracy(lp, task.Labels, task.Val))
		h.Epochs = epoch + 1

		if cfg.Patience > 0 {
			if tracker.observe(vl, h.ValAcc[epoch]) {
				bestParams = snapshot(task.Params, bestParams)
			} else if tracker.since >= cfg.Patience {
				break
			}
		}
		if w := cfg.Window; w > 0 && epoch > w {
			mean := 0.0
			for _, v := range h.ValLoss[epoch-w : epoch] {
				mean += v
			}
			if vl > mean/float64(w) {
				break
			}
		}
	}
	h.MsPerEpoch = float64(time.Since(start).Microseconds()) / 1e3 / float64(h.Epochs)
	if bestParams != nil {
		// Copy into the parameters' own tensors: the context's store shares them.
		for i, n := range task.Params {
			if _, err := G.Copy(n.Value(), bestParams[i]); err != nil {
				return nil, err
			}
		}
	}
	lp, err := evaluate()
	if err != nil {
		return nil, err
	}
	h.ValAccFinal = nn.Accuracy(lp, task.Labels, task.Val)
	h.TestAcc = nn.Accuracy(lp, task.Labels, task.Test)
	return h, nil
}

// snapshot copies the parameters' values into dst (allocated on first use).
func snapshot(params G.Nodes, dst []G.Value) []G.Value {
	if dst == nil {
		dst = make([]G.Value, len(params))
	}
	for i, n := range params {
		v, _ := G.CloneValue(n.Value())
		dst[i] = v
	}
	return dst
}

func scalar(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}
