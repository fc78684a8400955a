package models

import (
	"errors"
	"fmt"
	"math"
	"time"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/nn"
)

// TrainConfig sets up training: Fit and the task-specific loops built on it (Train,
// TrainSampled, link prediction, graph classification) read it.
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
	// LRStep, when > 0, multiplies the learning rate by LRGamma every LRStep epochs (as
	// torch.optim.lr_scheduler.StepLR; the GIN paper halves it every 50 epochs).
	LRStep  int
	LRGamma float64
	// Progress, when not nil, is called after every epoch (a notebook's progress bar, a log
	// line).
	Progress func(Progress)
	// Sync, when not nil, is called after every mini-batch's backward pass, before the
	// optimiser step: data-parallel training (package dist) replaces the step's gradients,
	// loss and weight by their averages over every worker there, so all workers take the same
	// step.
	Sync func(*StepResult) error
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

// Train fits a node classifier with Adam over the full graph and returns its history; the
// parameters hold the trained model afterwards. The same context seed gives bit-identical
// histories. It is Fit with a cross-entropy Problem (FullGraph).
func Train(c *nn.Context, task Task, cfg TrainConfig) (*History, error) {
	if len(task.Params) == 0 {
		return nil, errors.New("models: nothing to train: no parameters")
	}
	loss, logProbs, err := c.CrossEntropy(task.Logits, task.Labels, task.Train)
	if err != nil {
		return nil, err
	}
	p, closeStep, err := FullGraph(c, loss, task.Params, DecayNodes(task.Decayed), nil)
	if err != nil {
		return nil, err
	}
	defer closeStep()
	if len(task.Decays) > 0 {
		p.Decays = map[string]float64{}
		for _, d := range task.Decays {
			for _, n := range d.Params {
				p.Decays[n.Name()] = d.WeightDecay
			}
		}
	}
	// Evaluation needs only the forward pass: a machine over the subgraph that ends at the
	// log-probabilities skips the loss and every gradient.
	eval := NewEvaluator(c, logProbs)
	defer eval.Close()
	return fitNodes(p, cfg, eval.Outputs, task.Labels, task.Val, task.Test)
}

// fitNodes runs Fit with the validation of node classification: logProbs runs the model in
// evaluation mode and returns each node's log-probabilities, scored on val (ValLoss, ValAcc)
// after every epoch; after training, ValAccFinal and TestAcc are those of the returned model.
func fitNodes(p Problem, cfg TrainConfig, logProbs func() ([][]float64, error), labels, val, test []int) (*History, error) {
	var lp [][]float64
	p.Validate = func() (float64, float64, error) {
		var err error
		if lp, err = logProbs(); err != nil {
			return 0, 0, err
		}
		return nn.NLL(lp, labels, val), nn.Accuracy(lp, labels, val), nil
	}
	h, err := Fit(p, cfg)
	if err != nil {
		return nil, err
	}
	if _, _, err := p.Validate(); err != nil {
		return nil, err
	}
	h.ValAccFinal = nn.Accuracy(lp, labels, val)
	h.TestAcc = nn.Accuracy(lp, labels, test)
	return h, nil
}

// Progress is what Fit reports after every epoch (TrainConfig.Progress).
type Progress struct {
	Epoch, Epochs int // epochs done (1-based) and the maximum
	// TrainLoss is the epoch's mean training loss; ValLoss and ValScore the validation loss and
	// score (NaN without validation).
	TrainLoss, ValLoss, ValScore float64
	LearningRate                 float64       // the epoch's learning rate
	Elapsed                      time.Duration // since training started
	Best                         bool          // a new best validation score (with Patience)
}

// StepResult is what one mini-batch step reports to Fit.
type StepResult struct {
	Loss float64 // the mini-batch's loss
	// Weight is the mini-batch's weight in the epoch's mean training loss (its item count;
	// 0 counts as 1).
	Weight float64
	// Grads are the parameter nodes whose gradients the step computed, in the same order every
	// step (the optimiser's state follows the order).
	Grads G.Nodes
}

// Problem is what Fit trains: any model with any loss, over the full graph or mini-batches of
// nodes, edges or graphs. FullGraph and Rebuilt make the Step of the two usual cases.
type Problem struct {
	// Params are the model's parameters: their values are what early stopping saves and
	// restores (the nodes of any one context; contexts from nn.Context.Next share the values).
	Params G.Nodes
	// Epoch, when not nil, prepares epoch e (0-based): it shuffles, samples negatives, deals
	// mini-batches, and returns the number of mini-batches. nil: one step per epoch.
	Epoch func(e int) (batches int, err error)
	// Step runs the forward and backward pass of mini-batch b of the current epoch in training
	// mode.
	Step func(b int) (StepResult, error)
	// Validate, when not nil, scores the model in evaluation mode after every epoch: a loss
	// (lower is better) and a score (higher is better: accuracy, AUC). Patience and Window need
	// it.
	Validate func() (loss, score float64, err error)
	// Decay reports whether a parameter gets weight decay (nil: none). DecayAll and DecayNodes
	// make the usual ones.
	Decay func(*G.Node) bool
	// Decays, when not nil, give the named parameters a weight decay of their own in place of
	// TrainConfig.WeightDecay and Decay (GCNII decays its convolutions and its dense layers
	// differently). Names match across contexts from nn.Context.Next.
	Decays map[string]float64
}

// decayOf is the weight decay of parameter n.
func (p *Problem) decayOf(n *G.Node, wd float64) float64 {
	if d, ok := p.Decays[n.Name()]; ok {
		return d
	}
	if p.Decay != nil && p.Decay(n) {
		return wd
	}
	return 0
}

// DecayAll applies weight decay to every parameter.
func DecayAll(*G.Node) bool { return true }

// DecayNodes applies weight decay to the given parameters, recognised by name so that the
// same parameters of another context (nn.Context.Next) match too.
func DecayNodes(nodes G.Nodes) func(*G.Node) bool {
	names := map[string]bool{}
	for _, n := range nodes {
		names[n.Name()] = true
	}
	return func(n *G.Node) bool { return names[n.Name()] }
}

// Fit trains p with Adam (L2 weight decay on the parameters p.Decay selects, the learning rate
// scheduled by cfg.LRStep/LRGamma) for at most cfg.Epochs epochs, validating after each, with
// the early stopping of cfg.Window and cfg.Patience; with Patience the parameters of the best
// epoch are restored at the end. It returns the per-epoch history (TrainLoss, ValLoss, ValAcc
// holding the validation score); ValAccFinal and TestAcc are left to the caller.
func Fit(p Problem, cfg TrainConfig) (*History, error) {
	if cfg.Epochs <= 0 || cfg.LearningRate <= 0 {
		return nil, fmt.Errorf("models: train with %d epochs and learning rate %v: both must be positive", cfg.Epochs, cfg.LearningRate)
	}
	if p.Step == nil {
		return nil, errors.New("models: Problem without a Step")
	}
	if p.Validate == nil && (cfg.Patience > 0 || cfg.Window > 0) {
		return nil, errors.New("models: early stopping (Patience or Window) needs a Problem with Validate")
	}
	if cfg.LRStep < 0 || cfg.LRGamma < 0 {
		return nil, fmt.Errorf("models: learning-rate schedule every %d epochs by %v: want >= 0", cfg.LRStep, cfg.LRGamma)
	}
	// One Adam per weight decay, created in the order the decays first appear, each stepping
	// its parameters in the order of the step's gradients.
	var groups []*decayGroup
	group := map[float64]*decayGroup{}
	h := &History{}
	tracker := newBestTracker(cfg.ByAccuracy)
	tracker.either = cfg.PatienceOnEither
	var bestParams []G.Value
	start := time.Now()
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		lr := cfg.LearningRate
		if cfg.LRStep > 0 && cfg.LRGamma > 0 {
			lr *= math.Pow(cfg.LRGamma, float64(epoch/cfg.LRStep))
		}
		for _, g := range groups {
			g.adam.LearningRate = lr
		}
		batches := 1
		if p.Epoch != nil {
			var err error
			if batches, err = p.Epoch(epoch); err != nil {
				return nil, fmt.Errorf("models: epoch %d: %w", epoch, err)
			}
		}
		var lossSum, weightSum float64
		for b := 0; b < batches; b++ {
			r, err := p.Step(b)
			if err != nil {
				return nil, fmt.Errorf("models: epoch %d, batch %d: %w", epoch, b, err)
			}
			if cfg.Sync != nil {
				if err := cfg.Sync(&r); err != nil {
					return nil, fmt.Errorf("models: epoch %d, batch %d: %w", epoch, b, err)
				}
			}
			if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
				return nil, fmt.Errorf("models: training loss is %v at epoch %d", r.Loss, epoch)
			}
			for _, g := range groups {
				g.params = g.params[:0]
			}
			for _, n := range r.Grads {
				wd := p.decayOf(n, cfg.WeightDecay)
				g := group[wd]
				if g == nil {
					g = &decayGroup{adam: NewAdam(lr, wd)}
					group[wd] = g
					groups = append(groups, g)
				}
				g.params = append(g.params, n)
			}
			for _, g := range groups {
				if len(g.params) > 0 {
					if err := g.adam.Step(g.params); err != nil {
						return nil, err
					}
				}
			}
			w := r.Weight
			if w <= 0 {
				w = 1
			}
			lossSum += r.Loss * w
			weightSum += w
		}
		vl, vs := math.NaN(), math.NaN()
		if p.Validate != nil {
			var err error
			if vl, vs, err = p.Validate(); err != nil {
				return nil, err
			}
		}
		h.TrainLoss = append(h.TrainLoss, lossSum/weightSum)
		h.ValLoss = append(h.ValLoss, vl)
		h.ValAcc = append(h.ValAcc, vs)
		h.Epochs = epoch + 1
		stop, best := false, false
		if cfg.Patience > 0 {
			if tracker.observe(vl, vs) {
				best = true
				bestParams = snapshot(p.Params, bestParams)
			} else if tracker.since >= cfg.Patience {
				stop = true
			}
		}
		if w := cfg.Window; !stop && w > 0 && epoch > w {
			mean := 0.0
			for _, v := range h.ValLoss[epoch-w : epoch] {
				mean += v
			}
			stop = vl > mean/float64(w)
		}
		if cfg.Progress != nil {
			cfg.Progress(Progress{Epoch: epoch + 1, Epochs: cfg.Epochs, TrainLoss: h.TrainLoss[epoch], ValLoss: vl, ValScore: vs,
				LearningRate: lr, Elapsed: time.Since(start), Best: best})
		}
		if stop {
			break
		}
	}
	h.MsPerEpoch = float64(time.Since(start).Microseconds()) / 1e3 / float64(h.Epochs)
	if bestParams != nil {
		// Copy into the parameters' own tensors: the context's store shares them.
		for i, n := range p.Params {
			if _, err := G.Copy(n.Value(), bestParams[i]); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// FullGraph makes the Problem of a model whose expression graph is built once in c: the
// gradients of loss with respect to params are added to c's graph and one tape machine runs it
// every step, after prepare(b) (when not nil) has set the mini-batch's inputs (index values
// with ops.SetIndex, for edge or node mini-batches and per-epoch negative samples), so nothing
// is rebuilt between epochs. Set the returned Problem's Epoch and Validate as needed; call
// close when done.
func FullGraph(c *nn.Context, loss *G.Node, params G.Nodes, decay func(*G.Node) bool, prepare func(b int) error) (Problem, func() error, error) {
	if len(params) == 0 {
		return Problem{}, nil, errors.New("models: nothing to train: no parameters")
	}
	if _, err := G.Grad(loss, params...); err != nil {
		return Problem{}, nil, fmt.Errorf("models: building gradients: %w", err)
	}
	var lossVal G.Value
	G.Read(loss, &lossVal)
	m := G.NewTapeMachine(c.Graph)
	step := func(b int) (StepResult, error) {
		c.SetTraining(true)
		if err := c.Refresh(); err != nil {
			return StepResult{}, err
		}
		if prepare != nil {
			if err := prepare(b); err != nil {
				return StepResult{}, err
			}
		}
		m.Reset()
		if err := m.RunAll(); err != nil {
			return StepResult{}, err
		}
		return StepResult{Loss: scalar(lossVal), Grads: params}, nil
	}
	return Problem{Params: params, Step: step, Decay: decay}, m.Close, nil
}

// Rebuilt makes the Step of a model whose expression graph depends on the mini-batch (sampled
// neighbourhoods, a batch of graphs of another size): build(b) builds mini-batch b's model and
// loss in a fresh context (base.Next(), so parameters are shared by name) and returns the
// context, the loss and the batch's weight; the step adds the gradients of every parameter of
// that context, runs it once and returns them.
func Rebuilt(build func(b int) (c *nn.Context, loss *G.Node, weight float64, err error)) func(b int) (StepResult, error) {
	return func(b int) (StepResult, error) {
		c, loss, weight, err := build(b)
		if err != nil {
			return StepResult{}, err
		}
		params := c.Params()
		if _, err := G.Grad(loss, params...); err != nil {
			return StepResult{}, fmt.Errorf("models: building gradients: %w", err)
		}
		var lossVal G.Value
		G.Read(loss, &lossVal)
		m := G.NewTapeMachine(c.Graph)
		defer m.Close()
		c.SetTraining(true)
		if err := c.Refresh(); err != nil {
			return StepResult{}, err
		}
		if err := m.RunAll(); err != nil {
			return StepResult{}, err
		}
		return StepResult{Loss: scalar(lossVal), Weight: weight, Grads: params}, nil
	}
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

// decayGroup is the parameters of one weight decay and their optimiser.
type decayGroup struct {
	adam   *Adam
	params G.Nodes
}
