package models

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/metrics"
	"github.com/gnnlab/gognn/nn"
	"github.com/gnnlab/gognn/ops"
)

// Encoding is what a link-prediction encoder adds to a context: node embeddings for training
// and for evaluation, and an optional regulariser added to the loss.
type Encoding struct {
	// Z is the (nodes, d) embedding the training loss decodes (VGAE: a sample mu + eps*sigma).
	Z *G.Node
	// Eval is the embedding scored in evaluation (VGAE: mu); nil means Z.
	Eval *G.Node
	// Reg, when not nil, is a scalar added to the loss (VGAE: the KL term divided by the node
	// count, as Kipf & Welling and PyTorch Geometric).
	Reg *G.Node
	// Prepare, when not nil, sets the encoder's per-step inputs before every training run
	// (VGAE: the noise eps).
	Prepare func(rng *rand.Rand) error
}

// GAE is the graph auto-encoder of Kipf & Welling ("Variational Graph Auto-Encoders", NIPS
// workshop 2016) with a two-layer GCN encoder; with Variational it is their VGAE:
//
//	GAE:  Z = A' relu(A' X W0) W1
//	VGAE: H = relu(A' X W0), mu = A' H Wmu, log sigma = A' H Wsigma, Z = mu + eps * sigma
//	      (eps ~ N(0, I) drawn every step; evaluation uses mu),
//	      loss = reconstruction + KL / N,  KL = -1/2 mean_i sum_j (1 + 2 log sigma - mu^2 - sigma^2)
//
// where A' = D^-1/2 (A+I) D^-1/2 (the GCN layers include their bias, as PyG's GCNConv). The
// paper's setting: hidden 32, latent 16, Adam lr 0.01, 200 epochs, no dropout.
type GAE struct {
	Conv1, Conv2 *nn.GCNConv // Conv2 computes Z, or mu in a VGAE
	ConvLogStd   *nn.GCNConv // VGAE only
}

// NewGAE adds a GAE's (or with variational, a VGAE's) parameters to c.
func NewGAE(c *nn.Context, in, hidden, latent int, variational bool) (*GAE, error) {
	m := &GAE{}
	var err error
	if m.Conv1, err = nn.NewGCNConv(c, "gae1", in, hidden); err != nil {
		return nil, err
	}
	if m.Conv2, err = nn.NewGCNConv(c, "gae_mu", hidden, latent); err != nil {
		return nil, err
	}
	if variational {
		if m.ConvLogStd, err = nn.NewGCNConv(c, "gae_logstd", hidden, latent); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Learnables returns every parameter.
func (m *GAE) Learnables() G.Nodes {
	p := append(m.Conv1.Learnables(), m.Conv2.Learnables()...)
	if m.ConvLogStd != nil {
		p = append(p, m.ConvLogStd.Learnables()...)
	}
	return p
}

// Encode adds the encoder over the message-passing graph a and features x to c.
func (m *GAE) Encode(c *nn.Context, a *graph.CSR, x nn.Features) (Encoding, error) {
	h, err := m.Conv1.ForwardFeatures(a, x)
	if err != nil {
		return Encoding{}, err
	}
	if h, err = nn.ReLU(h); err != nil {
		return Encoding{}, err
	}
	mu, err := m.Conv2.Forward(a, h)
	if err != nil || m.ConvLogStd == nil {
		return Encoding{Z: mu}, err
	}
	logStd, err := m.ConvLogStd.Forward(a, h)
	if err != nil {
		return Encoding{}, err
	}
	// PyTorch Geometric clamps log sigma at 10 (MAX_LOGSTD); Gorgonia has no clamp op, and a
	// GCN output that large does not occur at the paper's learning rate.
	sigma, err := G.Exp(logStd)
	if err != nil {
		return Encoding{}, err
	}
	shape := mu.Shape()
	eps := G.NewMatrix(c.Graph, c.Dtype, G.WithShape(shape...), G.WithName(fmt.Sprintf("vgae_eps_%p", m)), G.WithInit(G.Zeroes()))
	noise, err := G.HadamardProd(eps, sigma)
	if err != nil {
		return Encoding{}, err
	}
	z, err := G.Add(mu, noise)
	if err != nil {
		return Encoding{}, err
	}
	// KL / N = -1/(2 N^2) sum_ij (1 + 2 log sigma - mu^2 - sigma^2).
	n := float64(shape[0])
	one := G.NewConstant(scalarOf(c.Dtype, 1))
	two := G.NewConstant(scalarOf(c.Dtype, 2))
	t := G.Must(G.Add(one, G.Must(G.Mul(two, logStd))))
	t = G.Must(G.Sub(t, G.Must(G.Square(mu))))
	t = G.Must(G.Sub(t, G.Must(G.Square(sigma))))
	kl := G.Must(G.Mul(G.NewConstant(scalarOf(c.Dtype, -0.5/(n*n))), G.Must(G.Sum(t))))
	buf := tensor.New(tensor.WithShape(shape...), tensor.Of(c.Dtype))
	prepare := func(rng *rand.Rand) error {
		if !c.Training() {
			buf.Zero()
		} else if c.Dtype == tensor.Float32 {
			for i, d := 0, buf.Float32s(); i < len(d); i++ {
				d[i] = float32(rng.NormFloat64())
			}
		} else {
			for i, d := 0, buf.Float64s(); i < len(d); i++ {
				d[i] = rng.NormFloat64()
			}
		}
		return G.Let(eps, buf)
	}
	return Encoding{Z: z, Eval: mu, Reg: kl, Prepare: prepare}, nil
}

func scalarOf(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float32 {
		return float32(v)
	}
	return v
}

// LinkDecoder scores node pairs from their embeddings: zs and zd are the (K, d) embeddings of
// the pairs' two ends, the result the (K) vector of logits.
type LinkDecoder interface {
	Decode(zs, zd *G.Node) (*G.Node, error)
}

// DotDecoder is the inner-product decoder of GAE: score = <z_u, z_v>.
type DotDecoder struct{}

// Decode returns the row-wise dot products.
func (DotDecoder) Decode(zs, zd *G.Node) (*G.Node, error) {
	p, err := G.HadamardProd(zs, zd)
	if err != nil {
		return nil, err
	}
	return G.Sum(p, 1)
}

// MLPDecoder scores a pair by an MLP over the element-wise product of its embeddings (the
// link-prediction baselines of the Open Graph Benchmark): score = W2 relu(W1 (z_u * z_v) + b1) + b2.
type MLPDecoder struct{ L1, L2 *nn.Linear }

// NewMLPDecoder adds an MLP decoder for d-dimensional embeddings with the given hidden width.
func NewMLPDecoder(c *nn.Context, d, hidden int) (*MLPDecoder, error) {
	l1, err := nn.NewLinear(c, "lpdec1", d, hidden, true)
	if err != nil {
		return nil, err
	}
	l2, err := nn.NewLinear(c, "lpdec2", hidden, 1, true)
	if err != nil {
		return nil, err
	}
	return &MLPDecoder{l1, l2}, nil
}

// Learnables returns the decoder's parameters.
func (m *MLPDecoder) Learnables() G.Nodes { return append(m.L1.Learnables(), m.L2.Learnables()...) }

// Decode returns the MLP's score of every pair.
func (m *MLPDecoder) Decode(zs, zd *G.Node) (*G.Node, error) {
	p, err := G.HadamardProd(zs, zd)
	if err != nil {
		return nil, err
	}
	h, err := nn.Sequential{m.L1, nn.Func(nn.ReLU), m.L2}.Forward(nil, p)
	if err != nil {
		return nil, err
	}
	return G.Reshape(h, tensor.Shape{p.Shape()[0]})
}

// LinkTask is what TrainLinks fits: an encoder over the split's message-passing graph and a
// decoder.
type LinkTask struct {
	Split *LinkSplit
	// Encode adds the encoder to c over the message-passing graph a (Split.Graph).
	Encode func(c *nn.Context, a *graph.CSR) (Encoding, error)
	// Decoder scores pairs; nil is DotDecoder.
	Decoder LinkDecoder
	// Params are every learnable parameter (encoder and decoder); Decayed the subset with
	// weight decay.
	Params, Decayed G.Nodes
	// HitsK is the K of the Hits@K reported (0: 50, as ogbl-collab).
	HitsK int
	// BatchSize, when > 0 and below the number of training edges, trains on edge mini-batches:
	// every epoch shuffles the training edges and steps once per BatchSize of them (the last
	// batch filled from the epoch's first edges), each with its own negatives, the encoder run
	// over the whole message-passing graph every step (as PyTorch Geometric's link-prediction
	// loaders without neighbour sampling). 0: one full batch per epoch.
	BatchSize int
	// NegativeRatio is the number of negative pairs drawn per training edge every epoch (0: 1,
	// as PyTorch Geometric's GAE example). The negatives' loss is their mean whatever their
	// number, so more negatives only lower the variance of its estimate: with all non-edges it
	// is the loss of Kipf & Welling (their positive weight balances the two means).
	NegativeRatio int
}

// LinkScores are the metrics of one set of positive and negative pairs.
type LinkScores struct {
	AUC, AP, Hits, MRR float64
}

// LinkHistory is TrainLinks' record: Fit's history (ValAcc holds the validation AUC) and the
// final validation and test scores.
type LinkHistory struct {
	History
	Val, Test LinkScores
}

// TrainLinks trains a link predictor with the reconstruction loss of GAE as PyTorch Geometric
// computes it: the mean binary cross-entropy (nn.Context.BinaryCrossEntropy) of the training
// edges (positives) plus that of NegativeRatio times as many negative pairs drawn anew every
// epoch (LinkSplit.SampleNegatives), plus the encoder's regulariser. The expression graph is
// built once: every step only replaces the values of the pair index inputs (ops.IndexSelect
// over ops.NewIndex nodes) and of the encoder's noise.
// Validation after each epoch scores the validation pairs (ValLoss: their cross-entropy, ValAcc:
// their AUC), so Patience with ByAccuracy keeps the epoch of the best validation AUC; the test
// pairs are scored once, at the end.
func TrainLinks(c *nn.Context, task LinkTask, cfg TrainConfig) (*LinkHistory, error) {
	s := task.Split
	if s == nil || task.Encode == nil {
		return nil, errors.New("models: link task needs a Split and an Encode")
	}
	if len(s.TrainPos) == 0 || len(s.ValPos) == 0 || len(s.TestPos) == 0 {
		return nil, fmt.Errorf("models: link split with %d/%d/%d train/val/test edges: each needs at least one", len(s.TrainPos), len(s.ValPos), len(s.TestPos))
	}
	dec := task.Decoder
	if dec == nil {
		dec = DotDecoder{}
	}
	hitsK := task.HitsK
	if hitsK == 0 {
		hitsK = 50
	}
	enc, err := task.Encode(c, s.Graph)
	if err != nil {
		return nil, err
	}
	rng := c.Rand()
	// Training pairs: the positives, then as many negatives (values replaced every epoch).
	p := len(s.TrainPos)
	batches := 1
	if task.BatchSize > 0 && task.BatchSize < p {
		p = task.BatchSize
		batches = (len(s.TrainPos) + p - 1) / p
	}
	ratio := max(task.NegativeRatio, 1)
	q := ratio * p
	// Positives and negatives are decoded from their own index inputs, so the loss is the sum
	// of two means, whatever the ratio.
	posSrc, posDst := ops.NewIndex(c.Graph, "lp_pos_src", p), ops.NewIndex(c.Graph, "lp_pos_dst", p)
	negSrc, negDst := ops.NewIndex(c.Graph, "lp_neg_src", q), ops.NewIndex(c.Graph, "lp_neg_dst", q)
	posLogits, err := decodePairs(dec, enc.Z, posSrc, posDst)
	if err != nil {
		return nil, err
	}
	negLogits, err := decodePairs(dec, enc.Z, negSrc, negDst)
	if err != nil {
		return nil, err
	}
	ones, zeros := make([]float64, p), make([]float64, q)
	for i := range ones {
		ones[i] = 1
	}
	posLoss, err := c.BinaryCrossEntropy(posLogits, ones)
	if err != nil {
		return nil, err
	}
	negLoss, err := c.BinaryCrossEntropy(negLogits, zeros)
	if err != nil {
		return nil, err
	}
	loss, err := G.Add(posLoss, negLoss)
	if err != nil {
		return nil, err
	}
	if enc.Reg != nil {
		if loss, err = G.Add(loss, enc.Reg); err != nil {
			return nil, err
		}
	}
	src, dst := make([]int, p), make([]int, p)
	nsrc, ndst := make([]int, q), make([]int, q)
	order := make([]int, len(s.TrainPos))
	for i := range order {
		order[i] = i
	}
	prepare := func(b int) error {
		// Mini-batch b holds positives b*p .. b*p+p-1 of the epoch's order, wrapping around to
		// its start to fill the last one (the index inputs keep their length).
		for i := 0; i < p; i++ {
			e := s.TrainPos[order[(b*p+i)%len(order)]]
			src[i], dst[i] = e.U, e.V
		}
		for i, e := range s.SampleNegatives(q, rng) {
			nsrc[i], ndst[i] = e.U, e.V
		}
		for _, set := range []struct {
			n   *G.Node
			idx []int
		}{{posSrc, src}, {posDst, dst}, {negSrc, nsrc}, {negDst, ndst}} {
			if err := ops.SetIndex(set.n, set.idx); err != nil {
				return err
			}
		}
		if enc.Prepare != nil {
			return enc.Prepare(rng)
		}
		return nil
	}
	prob, closeStep, err := FullGraph(c, loss, task.Params, DecayNodes(task.Decayed), prepare)
	if err != nil {
		return nil, err
	}
	defer closeStep()
	if batches > 1 {
		prob.Epoch = func(int) (int, error) {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			return batches, nil
		}
	}

	// Evaluation pairs: validation then test, positives then negatives, scored in one run.
	evalZ := enc.Eval
	if evalZ == nil {
		evalZ = enc.Z
	}
	sets := [][]Edge{s.ValPos, s.ValNeg, s.TestPos, s.TestNeg}
	var esrc, edst []int
	for _, set := range sets {
		for _, e := range set {
			esrc, edst = append(esrc, e.U), append(edst, e.V)
		}
	}
	evalSrc, evalDst := ops.NewIndex(c.Graph, "lp_eval_src", len(esrc)), ops.NewIndex(c.Graph, "lp_eval_dst", len(edst))
	if err := ops.SetIndex(evalSrc, esrc); err != nil {
		return nil, err
	}
	if err := ops.SetIndex(evalDst, edst); err != nil {
		return nil, err
	}
	evalScores, err := decodePairs(dec, evalZ, evalSrc, evalDst)
	if err != nil {
		return nil, err
	}
	evalVM := G.NewTapeMachine(c.Graph.SubgraphRoots(evalScores))
	defer evalVM.Close()
	score := func() ([]float64, error) {
		c.SetTraining(false)
		if err := c.Refresh(); err != nil {
			return nil, err
		}
		evalVM.Reset()
		if err := evalVM.RunAll(); err != nil {
			return nil, err
		}
		return nn.Vector(evalScores.Value())
	}
	split := func(all []float64) [][]float64 {
		out := make([][]float64, len(sets))
		at := 0
		for i, set := range sets {
			out[i] = all[at : at+len(set)]
			at += len(set)
		}
		return out
	}
	prob.Validate = func() (float64, float64, error) {
		all, err := score()
		if err != nil {
			return 0, 0, err
		}
		parts := split(all)
		auc, err := auc(parts[0], parts[1])
		return bce(parts[0], parts[1]), auc, err
	}
	h, err := Fit(prob, cfg)
	if err != nil {
		return nil, err
	}
	all, err := score()
	if err != nil {
		return nil, err
	}
	parts := split(all)
	lh := &LinkHistory{History: *h}
	if lh.Val, err = LinkMetrics(parts[0], parts[1], hitsK); err != nil {
		return nil, err
	}
	if lh.Test, err = LinkMetrics(parts[2], parts[3], hitsK); err != nil {
		return nil, err
	}
	lh.ValAccFinal, lh.TestAcc = lh.Val.AUC, lh.Test.AUC
	return lh, nil
}

// decodePairs selects the two ends' embeddings and decodes them.
func decodePairs(dec LinkDecoder, z, srcIdx, dstIdx *G.Node) (*G.Node, error) {
	zs, err := ops.IndexSelect(z, srcIdx)
	if err != nil {
		return nil, err
	}
	zd, err := ops.IndexSelect(z, dstIdx)
	if err != nil {
		return nil, err
	}
	return dec.Decode(zs, zd)
}

// LinkMetrics scores positive and negative pair scores: ROC AUC, average precision, Hits@k
// (positives above the k-th best negative) and the MRR of each positive against all the
// negatives.
func LinkMetrics(pos, neg []float64, k int) (LinkScores, error) {
	var r LinkScores
	var err error
	scores, labels := joinScores(pos, neg)
	if r.AUC, err = metrics.AUC(scores, labels); err != nil {
		return r, err
	}
	if r.AP, err = metrics.AP(scores, labels); err != nil {
		return r, err
	}
	if r.Hits, err = metrics.HitsAtK(pos, neg, k); err != nil {
		return r, err
	}
	negs := make([][]float64, len(pos))
	for i := range negs {
		negs[i] = neg
	}
	r.MRR, err = metrics.MRR(pos, negs)
	return r, err
}

func auc(pos, neg []float64) (float64, error) {
	scores, labels := joinScores(pos, neg)
	return metrics.AUC(scores, labels)
}

func joinScores(pos, neg []float64) ([]float64, []bool) {
	scores := append(append([]float64(nil), pos...), neg...)
	labels := make([]bool, len(scores))
	for i := range pos {
		labels[i] = true
	}
	return scores, labels
}

// bce is the mean binary cross-entropy of positive and negative logits, each set weighted
// equally.
func bce(pos, neg []float64) float64 {
	softplus := func(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }
	var lp, ln float64
	for _, s := range pos {
		lp += softplus(-s)
	}
	for _, s := range neg {
		ln += softplus(s)
	}
	return lp/float64(len(pos)) + ln/float64(len(neg))
}
