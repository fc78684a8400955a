package models

import (
	"errors"
	"fmt"
	"math"
	"time"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
	"github.com/gnnlab/gognn/ops"
)

// BuildFunc builds a model in c over blocks (input layer first) and returns the logits of the
// last block's destinations. It is called once per mini-batch, each time in a new context from
// nn.Context.Next, so it must create the model's layers in the same order every time.
type BuildFunc func(c *nn.Context, blocks []graph.Block) (*G.Node, error)

// SampledConfig sets up mini-batch training on sampled neighbourhoods.
type SampledConfig struct {
	TrainConfig
	Fanouts   []int // neighbours kept per node, one per layer, for the seeds' layer first (e.g. 25, 10)
	BatchSize int   // seed nodes per mini-batch
	// EvalSamples > 0 evaluates on that many neighbourhoods sampled once with the training
	// fan-outs (every node a seed, seeded by the context), averaging the predicted
	// probabilities, instead of on full neighbourhoods: GraphSAGE's reference implementation
	// samples at test time too. An order-sensitive aggregator such as the LSTM, trained on
	// sequences of at most the fan-out, does not carry over to a node's full in-degree (up to
	// 168 on Cora).
	EvalSamples int
}

// SampledTask is what TrainSampled fits.
type SampledTask struct {
	Graph     *graph.CSR
	Build     BuildFunc
	Labels    []int
	Train     []int
	Val, Test []int
}

// TrainSampled trains with mini-batches of seed nodes drawn from Train in a shuffled order each
// epoch (the context's seeded random source), sampling per-layer blocks around each batch; it
// evaluates on the full graph (graph.CSR.FullBlocks), which is layer-wise full-neighbourhood
// inference, or with EvalSamples on neighbourhoods sampled once. Weight decay applies to every parameter. The parameters in base's store hold the
// trained model afterwards.
func TrainSampled(base *nn.Context, task SampledTask, cfg SampledConfig) (*History, error) {
	if cfg.Epochs <= 0 || cfg.LearningRate <= 0 || cfg.BatchSize <= 0 || len(cfg.Fanouts) == 0 {
		return nil, fmt.Errorf("models: sampled training needs positive epochs, learning rate and batch size and at least one fan-out")
	}
	if len(task.Train) == 0 {
		return nil, errors.New("models: no training nodes")
	}
	solver := G.NewAdamSolver(G.WithLearnRate(cfg.LearningRate), G.WithL2Reg(cfg.WeightDecay))
	if cfg.WeightDecay == 0 {
		solver = G.NewAdamSolver(G.WithLearnRate(cfg.LearningRate))
	}
	rng := base.Rand()

	// The evaluation graph is built once: its parameter nodes are bound to the stored tensors
	// that training updates in place.
	evalSets := [][]graph.Block{task.Graph.FullBlocks(len(cfg.Fanouts))}
	if cfg.EvalSamples > 0 {
		all := make([]int, task.Graph.NumDst)
		for i := range all {
			all[i] = i
		}
		evalSets = evalSets[:0]
		for k := 0; k < cfg.EvalSamples; k++ {
			blocks, err := task.Graph.Sample(all, cfg.Fanouts, rng)
			if err != nil {
				return nil, err
			}
			evalSets = append(evalSets, blocks)
		}
	}
	// Built in evaluation mode, whatever the caller's mode (Build may look at it).
	base.SetTraining(false)
	var ec *nn.Context
	var evals []*Evaluator
	defer func() {
		for _, e := range evals {
			e.Close()
		}
	}()
	for _, blocks := range evalSets {
		ec = base.Next()
		logits, err := task.Build(ec, blocks)
		if err != nil {
			return nil, err
		}
		logProbs, err := ops.LogSoftmax(logits)
		if err != nil {
			return nil, err
		}
		evals = append(evals, NewEvaluator(ec, logProbs))
	}
	evaluate := func() ([][]float64, error) { return averageProbs(evals) }

	h := &History{}
	tracker := newBestTracker(cfg.ByAccuracy)
	var bestParams []G.Value
	var bestOf G.Nodes
	order := append([]int(nil), task.Train...)
	start := time.Now()
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		lossSum := 0.0
		for lo := 0; lo < len(order); lo += cfg.BatchSize {
			seeds := order[lo:min(lo+cfg.BatchSize, len(order))]
			l, err := trainBatch(base, task, cfg, solver, seeds)
			if err != nil {
				return nil, fmt.Errorf("models: epoch %d: %w", epoch, err)
			}
			lossSum += l * float64(len(seeds))
		}
		lp, err := evaluate()
		if err != nil {
			return nil, err
		}
		vl := nn.NLL(lp, task.Labels, task.Val)
		h.TrainLoss = append(h.TrainLoss, lossSum/float64(len(order)))
		h.ValLoss = append(h.ValLoss, vl)
		h.ValAcc = append(h.ValAcc, nn.Accuracy(lp, task.Labels, task.Val))
		h.Epochs = epoch + 1
		if cfg.Patience > 0 {
			if tracker.observe(vl, h.ValAcc[epoch]) {
				bestOf = ec.Params()
				bestParams = snapshot(bestOf, bestParams)
			} else if tracker.since >= cfg.Patience {
				break
			}
		}
	}
	h.MsPerEpoch = float64(time.Since(start).Microseconds()) / 1e3 / float64(h.Epochs)
	if bestParams != nil {
		for i, n := range bestOf {
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

// trainBatch runs one forward, backward and solver step on a sampled mini-batch and returns its
// loss.
func trainBatch(base *nn.Context, task SampledTask, cfg SampledConfig, solver G.Solver, seeds []int) (float64, error) {
	blocks, err := task.Graph.Sample(seeds, cfg.Fanouts, base.Rand())
	if err != nil {
		return 0, err
	}
	c := base.Next()
	c.SetTraining(true)
	logits, err := task.Build(c, blocks)
	if err != nil {
		return 0, err
	}
	labels := make([]int, len(seeds))
	local := make([]int, len(seeds))
	for k, s := range seeds {
		labels[k], local[k] = task.Labels[s], k
	}
	loss, _, err := c.CrossEntropy(logits, labels, local)
	if err != nil {
		return 0, err
	}
	params := c.Params()
	if _, err := G.Grad(loss, params...); err != nil {
		return 0, err
	}
	var lossVal G.Value
	G.Read(loss, &lossVal)
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	if err := c.Refresh(); err != nil {
		return 0, err
	}
	if err := m.RunAll(); err != nil {
		return 0, err
	}
	if err := solver.Step(G.NodesToValueGrads(params)); err != nil {
		return 0, err
	}
	return scalar(lossVal), nil
}

// averageProbs runs every evaluator and returns the log of the mean of their predicted
// probabilities, per node and class.
func averageProbs(evals []*Evaluator) ([][]float64, error) {
	if len(evals) == 1 {
		return evals[0].Logits()
	}
	var sum [][]float64
	for _, e := range evals {
		lp, err := e.Logits()
		if err != nil {
			return nil, err
		}
		if sum == nil {
			sum = make([][]float64, len(lp))
			for i := range sum {
				sum[i] = make([]float64, len(lp[i]))
			}
		}
		for i, row := range lp {
			for j, v := range row {
				sum[i][j] += math.Exp(v)
			}
		}
	}
	for _, row := range sum {
		for j := range row {
			row[j] = math.Log(row[j] / float64(len(evals)))
		}
	}
	return sum, nil
}
