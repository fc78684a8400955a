package models

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

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
	// Ranks > 0 makes this process worker Rank of Ranks data-parallel workers (package dist):
	// the order of the training nodes is shuffled by a random source of its own, drawn from
	// the context's at the start, so every worker deals the same mini-batches whatever its
	// sampling and dropout consume, and each trains on its share of every batch (the seeds at
	// positions Rank, Rank+Ranks, ...); TrainConfig.Sync then averages the workers'
	// gradients. 0 is one process with one random source, as before.
	Rank, Ranks int
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
// inference, or with EvalSamples on neighbourhoods sampled once. Weight decay applies to every
// parameter; early stopping (Window, Patience), the learning-rate schedule and Progress work as
// in Fit, which runs the loop. The parameters in base's store hold the trained model afterwards.
func TrainSampled(base *nn.Context, task SampledTask, cfg SampledConfig) (*History, error) {
	if cfg.Epochs <= 0 || cfg.LearningRate <= 0 || cfg.BatchSize <= 0 || len(cfg.Fanouts) == 0 {
		return nil, fmt.Errorf("models: sampled training needs positive epochs, learning rate and batch size and at least one fan-out")
	}
	if len(task.Train) == 0 {
		return nil, errors.New("models: no training nodes")
	}
	if cfg.Ranks < 0 || (cfg.Ranks > 0 && (cfg.Rank < 0 || cfg.Rank >= cfg.Ranks)) {
		return nil, fmt.Errorf("models: worker %d of %d: want 0 <= Rank < Ranks", cfg.Rank, cfg.Ranks)
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
	shuffle := rng
	if cfg.Ranks > 0 {
		shuffle = rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	}
	order := append([]int(nil), task.Train...)
	// The order is reshuffled in place every epoch, each shuffle starting from the last.
	loader := graph.Loader{N: len(order), BatchSize: cfg.BatchSize}
	var batches [][]int
	p := Problem{
		Params: ec.Params(),
		Epoch: func(int) (int, error) {
			shuffle.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			var err error
			batches, err = loader.EpochOf(order)
			if err == nil && cfg.Ranks > 1 {
				batches, err = foldSmallLast(batches, cfg.Ranks)
			}
			return len(batches), err
		},
		Step: Rebuilt(func(b int) (*nn.Context, *G.Node, float64, error) {
			seeds := batches[b]
			if cfg.Ranks > 1 {
				seeds = shareOf(seeds, cfg.Rank, cfg.Ranks)
			}
			c, loss, err := sampledLoss(base, task, cfg, seeds)
			return c, loss, float64(len(seeds)), err
		}),
		Decay: DecayAll,
	}
	return fitNodes(p, cfg.TrainConfig, func() ([][]float64, error) { return averageProbs(evals) }, task.Labels, task.Val, task.Test)
}

// sampledLoss samples the blocks of one mini-batch of seeds and builds its model and
// cross-entropy loss in a new context.
func sampledLoss(base *nn.Context, task SampledTask, cfg SampledConfig, seeds []int) (*nn.Context, *G.Node, error) {
	blocks, err := task.Graph.Sample(seeds, cfg.Fanouts, base.Rand())
	if err != nil {
		return nil, nil, err
	}
	c := base.Next()
	c.SetTraining(true)
	logits, err := task.Build(c, blocks)
	if err != nil {
		return nil, nil, err
	}
	labels := make([]int, len(seeds))
	local := make([]int, len(seeds))
	for k, s := range seeds {
		labels[k], local[k] = task.Labels[s], k
	}
	loss, _, err := c.CrossEntropy(logits, labels, local)
	return c, loss, err
}

// averageProbs runs every evaluator and returns the log of the mean of their predicted
// probabilities, per node and class.
func averageProbs(evals []*Evaluator) ([][]float64, error) {
	if len(evals) == 1 {
		return evals[0].Outputs()
	}
	var sum [][]float64
	for _, e := range evals {
		lp, err := e.Outputs()
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

// shareOf returns the seeds at positions rank, rank+ranks, ... of a mini-batch.
func shareOf(seeds []int, rank, ranks int) []int {
	var mine []int
	for k := rank; k < len(seeds); k += ranks {
		mine = append(mine, seeds[k])
	}
	return mine
}

// foldSmallLast merges a last mini-batch with fewer seeds than there are workers into the one
// before it, so every worker has at least one seed in every batch.
func foldSmallLast(batches [][]int, ranks int) ([][]int, error) {
	n := len(batches)
	if n == 0 || len(batches[n-1]) >= ranks {
		return batches, nil
	}
	if n == 1 {
		return nil, fmt.Errorf("models: %d training nodes for %d data-parallel workers: want at least one each", len(batches[0]), ranks)
	}
	prev := append(append([]int(nil), batches[n-2]...), batches[n-1]...)
	return append(batches[:n-2], prev), nil
}
