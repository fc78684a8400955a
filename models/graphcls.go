package models

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/metrics"
	"github.com/gnnlab/gognn/nn"
	"github.com/gnnlab/gognn/ops"
)

// LabelledGraph is one graph of a graph-classification set: its structure, its n x F node
// features (row-major) and its class.
type LabelledGraph struct {
	Graph *graph.CSR
	X     []float32
	Label int
}

// GraphClassifier is the model of Xu et al. ("How Powerful are Graph Neural Networks?", ICLR
// 2019) for graph classification: Layers message-passing layers, each followed by batch norm
// and ReLU, and a readout that sum-pools the node representations of every layer (the input
// features included) over each graph, maps each pooled vector to class scores by a linear layer
// with dropout on its input, and adds the scores:
//
//	h^0 = x,  h^k = relu(BN(conv_k(A, h^{k-1}))),  logits = sum_{k=0..L} W_k dropout(sum_{v in G} h^k_v) + b_k
//
// With Conv "gin" the layers are GIN-0: conv(A, h) = MLP(h_v + sum_{u -> v} h_u), the MLP two
// Linear layers with batch norm and ReLU between them (the paper's GIN-0, epsilon fixed at 0,
// its best variant). With Conv "gcn" they are GCN layers (Kipf & Welling), the paper's
// comparison. The paper's setting: 5 layers, hidden 64, dropout 0.5.
type GraphClassifier struct {
	Conv string
	// Readout pools each graph's node rows: "sum" (the default, the paper's choice for the
	// bioinformatics sets), "mean" (its choice for the social sets) or "max".
	Readout string
	MLPs    []*nn.MLP     // gin
	GCNs    []*nn.GCNConv // gcn
	Norms   []*nn.BatchNorm
	Heads   []*nn.Linear
	Dropout *nn.Dropout
}

// NewGraphClassifier adds the model's parameters to c.
func NewGraphClassifier(c *nn.Context, conv string, in, hidden, classes, layers int, dropout float64) (*GraphClassifier, error) {
	if conv != "gin" && conv != "gcn" {
		return nil, fmt.Errorf("models: graph classifier with conv %q, want gin or gcn", conv)
	}
	if layers < 1 || hidden < 1 || in < 1 || classes < 2 {
		return nil, fmt.Errorf("models: graph classifier with %d layers, %d inputs, hidden %d, %d classes", layers, in, hidden, classes)
	}
	m := &GraphClassifier{Conv: conv}
	var err error
	if m.Dropout, err = nn.NewDropout(c, dropout); err != nil {
		return nil, err
	}
	width := in
	for k := 0; k <= layers; k++ {
		head, err := nn.NewLinear(c, fmt.Sprintf("readout%d", k), width, classes, true)
		if err != nil {
			return nil, err
		}
		m.Heads = append(m.Heads, head)
		if k == layers {
			break
		}
		switch conv {
		case "gin":
			mlp, err := nn.NewMLP(c, fmt.Sprintf("gin%d", k), nn.MLPConfig{Dims: []int{width, hidden, hidden}, BatchNorm: true})
			if err != nil {
				return nil, err
			}
			m.MLPs = append(m.MLPs, mlp)
		case "gcn":
			g, err := nn.NewGCNConv(c, fmt.Sprintf("gcn%d", k), width, hidden)
			if err != nil {
				return nil, err
			}
			m.GCNs = append(m.GCNs, g)
		}
		bn, err := nn.NewBatchNorm(c, fmt.Sprintf("bn%d", k), hidden)
		if err != nil {
			return nil, err
		}
		m.Norms = append(m.Norms, bn)
		width = hidden
	}
	return m, nil
}

// Learnables returns every parameter.
func (m *GraphClassifier) Learnables() G.Nodes {
	var p G.Nodes
	for _, l := range m.MLPs {
		p = append(p, l.Learnables()...)
	}
	for _, l := range m.GCNs {
		p = append(p, l.Learnables()...)
	}
	for _, l := range m.Norms {
		p = append(p, l.Learnables()...)
	}
	for _, l := range m.Heads {
		p = append(p, l.Learnables()...)
	}
	return p
}

// Forward returns the (graphs, classes) logits of a batch: x holds the batch's node features
// (rows in b's order), seg its segment vector (an index node holding b.Segment, see
// ops.NewIndex).
func (m *GraphClassifier) Forward(b *graph.Batch, x, seg *G.Node) (*G.Node, error) {
	var logits *G.Node
	h := x
	for k := range m.Heads {
		var pooled *G.Node
		var err error
		switch m.Readout {
		case "", "sum":
			pooled, err = ops.SegmentSum(h, seg, b.NumGraphs())
		case "mean":
			pooled, err = ops.SegmentMean(h, seg, b.NumGraphs())
		case "max":
			pooled, err = ops.SegmentMax(h, seg, b.NumGraphs())
		default:
			err = fmt.Errorf("models: graph classifier readout %q, want sum, mean or max", m.Readout)
		}
		if err != nil {
			return nil, err
		}
		if pooled, err = m.Dropout.Forward(nil, pooled); err != nil {
			return nil, err
		}
		s, err := m.Heads[k].Forward(nil, pooled)
		if err != nil {
			return nil, err
		}
		if logits == nil {
			logits = s
		} else if logits, err = ops.Add(logits, s); err != nil {
			return nil, err
		}
		if k == len(m.Norms) {
			break
		}
		if m.Conv == "gin" {
			agg, err := ops.SumAggregate(b.Graph, h)
			if err != nil {
				return nil, err
			}
			if h, err = ops.Add(h, agg); err != nil {
				return nil, err
			}
			h, err = m.MLPs[k].Forward(b.Graph, h)
			if err != nil {
				return nil, err
			}
		} else {
			if h, err = m.GCNs[k].Forward(b.Graph, h); err != nil {
				return nil, err
			}
		}
		if h, err = m.Norms[k].Forward(nil, h); err != nil {
			return nil, err
		}
		if h, err = nn.ReLU(h); err != nil {
			return nil, err
		}
	}
	return logits, nil
}

// BatchInputs joins graphs into a Batch and adds its feature matrix and segment vector to c.
func BatchInputs(c *nn.Context, graphs []LabelledGraph, ids []int) (*graph.Batch, *G.Node, *G.Node, error) {
	if len(ids) == 0 {
		return nil, nil, nil, errors.New("models: empty batch of graphs")
	}
	gs := make([]*graph.CSR, len(ids))
	f := -1
	for k, i := range ids {
		g := graphs[i]
		gs[k] = g.Graph
		if g.Graph.NumDst == 0 || len(g.X)%g.Graph.NumDst != 0 {
			return nil, nil, nil, fmt.Errorf("models: graph %d has %d nodes and %d feature values", i, g.Graph.NumDst, len(g.X))
		}
		if w := len(g.X) / g.Graph.NumDst; f < 0 {
			f = w
		} else if w != f {
			return nil, nil, nil, fmt.Errorf("models: graph %d has %d features per node, graph %d has %d", i, w, ids[0], f)
		}
	}
	b, err := graph.NewBatch(gs)
	if err != nil {
		return nil, nil, nil, err
	}
	n := b.Graph.NumDst
	t := tensor.New(tensor.WithShape(n, f), tensor.Of(c.Dtype))
	at := 0
	for _, i := range ids {
		for _, v := range graphs[i].X {
			if c.Dtype == tensor.Float32 {
				t.Float32s()[at] = v
			} else {
				t.Float64s()[at] = float64(v)
			}
			at++
		}
	}
	x := c.Constant("graph_x", t)
	seg := ops.NewIndex(c.Graph, "graph_seg", n)
	if err := ops.SetIndex(seg, b.Segment); err != nil {
		return nil, nil, nil, err
	}
	return b, x, seg, nil
}

// GraphTask is what TrainGraphs fits.
type GraphTask struct {
	Graphs []LabelledGraph
	// Build adds the model to c (a new context per mini-batch, parameters shared by name) and
	// returns the logits of the batch's graphs.
	Build func(c *nn.Context, b *graph.Batch, x, seg *G.Node) (*G.Node, error)
	// Train are the training graphs; Test the held-out graphs scored after the last epoch (and
	// after each epoch when EvalEachEpoch or Val is set).
	Train, Test []int
	// Val, when not empty, are validation graphs, disjoint from Train and Test (a part of the
	// training graphs held out, as Errica et al. 2020 do inside each fold), scored after every
	// epoch: the selected epoch is the one of the best validation accuracy, a tie going to the
	// lower validation loss, then to the earlier epoch. The selection reads the validation
	// scores only; Test is scored every epoch too, and GraphHistory keeps its score at the
	// selected epoch (the same as restoring that epoch's model and scoring it once, at the cost
	// of one forward pass over Test per epoch).
	Val []int
	// SelectByLoss selects the epoch of the minimum validation loss instead (the earliest on
	// ties), as PyTorch Geometric's kernel benchmark (cross_validation_with_val_set) does: a
	// continuous score, less coarse than the accuracy on a few validation graphs. Patience then
	// counts the epochs since the lowest validation loss.
	SelectByLoss bool
	BatchSize    int
	// EvalEachEpoch scores Test after every epoch, for the history only (ValLoss and ValAcc
	// when Val is empty, TestAccs): the score reported is still the last epoch's.
	EvalEachEpoch bool
	// Reshuffle deals new mini-batches every epoch (PyTorch's DataLoader with shuffle), which
	// builds and compiles each batch's model anew. Without it the training graphs are dealt
	// into batches once, with the context's random source, and every epoch runs the batches'
	// models, built and compiled once, in a new random order: the same gradient steps over the
	// same data per epoch, without the rebuild, which takes about as long as the step itself.
	Reshuffle bool
}

// GraphHistory is TrainGraphs' record: Fit's history (ValLoss and ValAcc: the validation
// graphs' loss and accuracy per epoch when Val is set, else the held-out graphs' when
// EvalEachEpoch), TestAcc the held-out accuracy after the last epoch, and with Val the
// selected epoch and the held-out accuracy there.
type GraphHistory struct {
	History
	TestAccs []float64 // held-out accuracy per epoch, when scored every epoch
	// SelectedEpoch (1-based) is the epoch chosen on the validation graphs, SelectedAcc the
	// held-out accuracy of that epoch's model; both 0 without Val.
	SelectedEpoch int
	SelectedAcc   float64
}

// TrainGraphs trains a graph classifier on mini-batches of the training graphs, one pass per
// epoch in a shuffled order (see GraphTask.Reshuffle), each batch a block-diagonal graph
// (graph.Batch), with Adam and cfg's schedule and weight decay on every parameter. TestAcc is
// the accuracy on Test after the last epoch, in evaluation mode (batch norm with running
// statistics, no dropout); with Val, SelectedAcc is that of the epoch chosen on Val. With Val,
// cfg.Patience > 0 stops training after Patience epochs without a better validation score (the
// selection's: accuracy, ties to the lower loss); TestAcc is then the last epoch run's. The
// models that score Val and Test are built and compiled once and rerun every epoch.
func TrainGraphs(base *nn.Context, task GraphTask, cfg TrainConfig) (*GraphHistory, error) {
	if len(task.Train) == 0 || len(task.Test) == 0 || task.Build == nil || task.BatchSize <= 0 {
		return nil, fmt.Errorf("models: graph task with %d training and %d test graphs, batch size %d: need both, a Build and a positive batch size", len(task.Train), len(task.Test), task.BatchSize)
	}
	if cfg.Window > 0 || (cfg.Patience > 0 && len(task.Val) == 0) {
		return nil, errors.New("models: TrainGraphs stops early only on validation graphs: Patience needs GraphTask.Val, and Window is not used")
	}
	// Patience counts the epochs since the best validation score, the selection's.
	cfg.ByAccuracy, cfg.PatienceOnEither = !task.SelectByLoss, false
	if err := disjoint(task.Train, task.Val, task.Test); err != nil {
		return nil, err
	}
	rng := base.Rand()
	loader := graph.Loader{BatchSize: task.BatchSize, Shuffle: true, Rand: rng}
	var batches [][]int
	build := func(bi int) (*nn.Context, *G.Node, float64, error) {
		ids := batches[bi]
		c := base.Next()
		c.SetTraining(true)
		b, x, seg, err := BatchInputs(c, task.Graphs, ids)
		if err != nil {
			return nil, nil, 0, err
		}
		logits, err := task.Build(c, b, x, seg)
		if err != nil {
			return nil, nil, 0, err
		}
		labels := make([]int, len(ids))
		all := make([]int, len(ids))
		for k, i := range ids {
			labels[k], all[k] = task.Graphs[i].Label, k
		}
		loss, _, err := c.CrossEntropy(logits, labels, all)
		return c, loss, float64(len(ids)), err
	}
	p := Problem{Decay: DecayAll}
	if task.Reshuffle {
		p.Epoch = func(int) (int, error) {
			var err error
			batches, err = loader.EpochOf(task.Train)
			return len(batches), err
		}
		p.Step = Rebuilt(build)
	} else {
		var err error
		if batches, err = loader.EpochOf(task.Train); err != nil {
			return nil, err
		}
		steps := make([]func(int) (StepResult, error), len(batches))
		var closers []func() error
		defer func() {
			for _, f := range closers {
				f()
			}
		}()
		order := make([]int, len(batches))
		p.Epoch = func(int) (int, error) {
			for i := range order {
				order[i] = i
			}
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			return len(order), nil
		}
		p.Step = func(b int) (StepResult, error) {
			bi := order[b]
			if steps[bi] == nil {
				c, loss, weight, err := build(bi)
				if err != nil {
					return StepResult{}, err
				}
				fp, closeFn, err := FullGraph(c, loss, c.Params(), nil, nil)
				if err != nil {
					return StepResult{}, err
				}
				closers = append(closers, closeFn)
				steps[bi] = func(int) (StepResult, error) {
					r, err := fp.Step(0)
					r.Weight = weight
					return r, err
				}
			}
			return steps[bi](0)
		}
	}
	// The scorers are built after the first epoch's training contexts, so that the
	// parameters are created (and drawn from the random source) in the same order with and
	// without them.
	var test, val *graphScorer
	defer func() {
		test.close()
		val.close()
	}()
	scorers := func() error {
		var err error
		if test == nil {
			if test, err = newGraphScorer(base, task.Graphs, task.Test, evalChunk, task.Build); err != nil {
				return err
			}
		}
		if val == nil && len(task.Val) > 0 {
			val, err = newGraphScorer(base, task.Graphs, task.Val, evalChunk, task.Build)
		}
		return err
	}
	gh := &GraphHistory{}
	if len(task.Val) > 0 || task.EvalEachEpoch {
		p.Validate = func() (float64, float64, error) {
			if err := scorers(); err != nil {
				return 0, 0, err
			}
			tl, ta, err := test.score()
			if err != nil {
				return 0, 0, err
			}
			gh.TestAccs = append(gh.TestAccs, ta)
			if val == nil {
				return tl, ta, nil
			}
			return val.score()
		}
	}
	h, err := Fit(p, cfg)
	if err != nil {
		return nil, err
	}
	gh.History = *h
	if err := scorers(); err != nil {
		return nil, err
	}
	if _, gh.TestAcc, err = test.score(); err != nil {
		return nil, err
	}
	if val != nil {
		best := newBestTracker(!task.SelectByLoss)
		for e := range h.ValAcc {
			if best.observe(h.ValLoss[e], h.ValAcc[e]) {
				gh.SelectedEpoch, gh.SelectedAcc = e+1, gh.TestAccs[e]
			}
		}
	}
	return gh, nil
}

// evalChunk is how many graphs one evaluation batch holds: in evaluation mode the scores do
// not depend on the batching, and fewer, larger batches run faster.
const evalChunk = 512

// disjoint reports an error when a graph is in more than one of the sets.
func disjoint(sets ...[]int) error {
	seen := map[int]int{}
	for s, ids := range sets {
		for _, i := range ids {
			if t, ok := seen[i]; ok && t != s {
				return fmt.Errorf("models: graph %d is in both the training, validation or test sets %d and %d (0: train, 1: validation, 2: test): hold the sets apart", i, t, s)
			}
			seen[i] = s
		}
	}
	return nil
}

// graphScorer scores a fixed set of graphs in evaluation mode, with the models of its chunks
// built and compiled once and rerun on every call (the parameters and the batch-norm running
// statistics are shared by reference, so each run sees their current values).
type graphScorer struct {
	graphs []LabelledGraph
	chunks [][]int
	evals  []*Evaluator
}

func newGraphScorer(base *nn.Context, graphs []LabelledGraph, ids []int, chunk int, build func(c *nn.Context, b *graph.Batch, x, seg *G.Node) (*G.Node, error)) (*graphScorer, error) {
	if len(ids) == 0 || chunk <= 0 {
		return nil, fmt.Errorf("models: scoring %d graphs in batches of %d", len(ids), chunk)
	}
	s := &graphScorer{graphs: graphs}
	base.SetTraining(false)
	for lo := 0; lo < len(ids); lo += chunk {
		if err := s.add(base.Next(), ids[lo:min(lo+chunk, len(ids))], build); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// add builds, in evaluation mode in c, the model that scores the graphs part.
func (s *graphScorer) add(c *nn.Context, part []int, build func(c *nn.Context, b *graph.Batch, x, seg *G.Node) (*G.Node, error)) error {
	c.SetTraining(false)
	b, x, seg, err := BatchInputs(c, s.graphs, part)
	if err != nil {
		return err
	}
	logits, err := build(c, b, x, seg)
	if err != nil {
		return err
	}
	lp, err := ops.LogSoftmax(logits)
	if err != nil {
		return err
	}
	s.chunks = append(s.chunks, part)
	s.evals = append(s.evals, NewEvaluator(c, lp))
	return nil
}

// score returns the mean cross-entropy and the accuracy of the current model.
func (s *graphScorer) score() (loss, acc float64, err error) {
	right, n := 0, 0
	for k, e := range s.evals {
		rows, err := e.Outputs()
		if err != nil {
			return 0, 0, err
		}
		pred := metrics.Argmax(rows)
		for r, i := range s.chunks[k] {
			y := s.graphs[i].Label
			loss -= rows[r][y]
			if pred[r] == y {
				right++
			}
			n++
		}
	}
	return loss / float64(n), float64(right) / float64(n), nil
}

func (s *graphScorer) close() {
	if s == nil {
		return
	}
	for _, e := range s.evals {
		e.Close()
	}
	s.evals = nil
}

// EvalGraphs scores the graphs ids in evaluation mode, in batches of batchSize, and returns the
// mean cross-entropy and the accuracy.
func EvalGraphs(base *nn.Context, graphs []LabelledGraph, ids []int, batchSize int, build func(c *nn.Context, b *graph.Batch, x, seg *G.Node) (*G.Node, error)) (loss, acc float64, err error) {
	s, err := newGraphScorer(base, graphs, ids, batchSize, build)
	if err != nil {
		return 0, 0, err
	}
	defer s.close()
	return s.score()
}

// StratifiedFolds deals items into k folds that keep the class proportions (as scikit-learn's
// StratifiedKFold with shuffle): the items of each class, shuffled by rng, go round-robin to the
// folds, continuing from the fold where the previous class stopped. Each fold's items are
// ascending. Fold i is the test set of round i; the others train.
func StratifiedFolds(labels []int, k int, rng *rand.Rand) ([][]int, error) {
	if k < 2 || k > len(labels) {
		return nil, fmt.Errorf("models: %d folds of %d items: want 2 <= k <= items", k, len(labels))
	}
	byClass := map[int][]int{}
	var classes []int
	for i, y := range labels {
		if _, ok := byClass[y]; !ok {
			classes = append(classes, y)
		}
		byClass[y] = append(byClass[y], i)
	}
	sort.Ints(classes)
	folds := make([][]int, k)
	f := 0
	for _, y := range classes {
		items := byClass[y]
		rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		for _, i := range items {
			folds[f] = append(folds[f], i)
			f = (f + 1) % k
		}
	}
	for _, fold := range folds {
		sort.Ints(fold)
	}
	return folds, nil
}

// StratifiedHoldout splits ids into those kept and a stratified 1/k of them held out (the first
// of StratifiedFolds over their labels, labels[id]), both in the order of ids: the validation
// graphs held out of a fold's training graphs, so that an epoch is chosen without reading the
// test fold.
func StratifiedHoldout(ids, labels []int, k int, rng *rand.Rand) (kept, held []int, err error) {
	sub := make([]int, len(ids))
	for i, id := range ids {
		if id < 0 || id >= len(labels) {
			return nil, nil, fmt.Errorf("models: hold-out of id %d with %d labels", id, len(labels))
		}
		sub[i] = labels[id]
	}
	inner, err := StratifiedFolds(sub, k, rng)
	if err != nil {
		return nil, nil, err
	}
	out := make([]bool, len(ids))
	for _, i := range inner[0] {
		out[i] = true
		held = append(held, ids[i])
	}
	for i, id := range ids {
		if !out[i] {
			kept = append(kept, id)
		}
	}
	return kept, held, nil
}

// FoldTrainVal returns the training and validation items of fold test under PyTorch
// Geometric's kernel-benchmark split (benchmark/kernel, k_fold): folds[test-1] (mod k, the
// previous fold) validates, and the other k-2 folds, in fold order, train. It needs k >= 3.
func FoldTrainVal(folds [][]int, test int) (train, val []int, err error) {
	k := len(folds)
	if k < 3 || test < 0 || test >= k {
		return nil, nil, fmt.Errorf("models: FoldTrainVal of fold %d among %d folds: want at least 3 folds (one to test, one to validate, the rest to train) and 0 <= fold < k", test, k)
	}
	prev := (test + k - 1) % k
	for i, fold := range folds {
		if i != test && i != prev {
			train = append(train, fold...)
		}
	}
	return train, folds[prev], nil
}

// FoldTrain returns every item not in folds[test].
func FoldTrain(folds [][]int, test int) []int {
	var out []int
	for i, f := range folds {
		if i != test {
			out = append(out, f...)
		}
	}
	sort.Ints(out)
	return out
}
