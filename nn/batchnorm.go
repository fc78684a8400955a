package nn

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// BatchNorm normalises each feature over the rows (nodes) of a (n, F) matrix and applies a
// learned gain and bias (Ioffe & Szegedy, ICML 2015), as torch.nn.BatchNorm1d over node
// features (PyTorch Geometric's BatchNorm):
//
//	y = (x - mu) / sqrt(sigma^2 + eps) * gain + bias
//
// In training mode mu and sigma^2 are the batch's mean and biased variance per feature; in
// evaluation mode they are the running statistics, which each training run updates as
// running = (1 - Momentum) running + Momentum batch (the variance unbiased, n/(n-1)), with
// Momentum 0.1, eps 1e-5, running mean 0 and variance 1 at the start, gain 1 and bias 0.
//
// The running statistics are kept by name in the context beside the parameters, so a model
// rebuilt per mini-batch (Context.Next) shares them; they are not parameters (Learnables does
// not list them, models.Save does not save them). A training run's batch statistics are
// folded in at the next Context.Refresh of any context sharing them, so call Refresh once
// before every run, as the training loops of package models do.
type BatchNorm struct {
	F             int
	Eps, Momentum float64
	Gain, Bias    *G.Node
	// RunningMean and RunningVar are the running statistics, shape (F).
	RunningMean, RunningVar *tensor.Dense

	c     *Context
	state *ops.BatchNormState // the mode, read by the op at each run, and the batch statistics
}

var _ Layer = (*BatchNorm)(nil)

// NewBatchNorm adds a batch norm over f features to the context's graph.
func NewBatchNorm(c *Context, name string, f int) (*BatchNorm, error) {
	if f <= 0 {
		return nil, fmt.Errorf("nn: batch norm %q over %d features: want at least 1", name, f)
	}
	l := &BatchNorm{F: f, Eps: 1e-5, Momentum: 0.1, c: c}
	l.Gain = c.param(name+".weight", tensor.Shape{f}, Ones)
	l.Bias = c.param(name+".bias", tensor.Shape{f}, Zeros)
	l.RunningMean = c.buffer(name+".running_mean", f, 0)
	l.RunningVar = c.buffer(name+".running_var", f, 1)
	return l, nil
}

// buffer returns the context's non-learnable state tensor of that name, created filled with v.
func (c *Context) buffer(name string, n int, v float64) *tensor.Dense {
	name = c.uniqueName(name)
	if b, ok := c.shared.buffers[name]; ok && b.Shape().TotalSize() == n {
		return b
	}
	data := make([]float64, n)
	Constant(v)(nil, nil, data)
	b := newFrom(c.Dtype, tensor.Shape{n}, data)
	c.shared.buffers[name] = b
	return b
}

// Forward normalises x of shape (n, F) with one fused op (ops.BatchNorm); the graph is
// ignored. A BatchNorm's Forward is called once per graph built.
func (l *BatchNorm) Forward(_ *graph.CSR, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 2 || s[1] != l.F {
		return nil, fmt.Errorf("nn: batch norm over %d features got shape %v", l.F, s)
	}
	if l.state != nil {
		return nil, fmt.Errorf("nn: batch norm %s applied twice in one graph: create one per use", l.Gain.Name())
	}
	c := l.c
	l.state = &ops.BatchNormState{Eps: l.Eps, RunningMean: l.RunningMean, RunningVar: l.RunningVar}
	if err := l.refresh(nil, c.Training()); err != nil {
		return nil, err
	}
	c.masks = append(c.masks, l)
	return ops.BatchNorm(x, l.Gain, l.Bias, l.state)
}

// refresh sets the mode and, in training mode, asks the next Refresh to fold this run's
// batch statistics into the running ones.
func (l *BatchNorm) refresh(_ *rand.Rand, training bool) error {
	l.state.Training, l.state.Eps = training, l.Eps
	if training {
		l.c.shared.pending = append(l.c.shared.pending, l.fold)
	}
	return nil
}

// fold updates the running statistics from the batch statistics of the last training run,
// if any.
func (l *BatchNorm) fold() error {
	s := l.state
	if !s.Ran || len(s.BatchMean) != l.F {
		return nil
	}
	unbias := 1.0
	if s.Rows > 1 {
		unbias = float64(s.Rows) / float64(s.Rows-1)
	}
	m := l.Momentum
	for i := 0; i < l.F; i++ {
		setAt(l.RunningMean, i, (1-m)*at(l.RunningMean, i)+m*s.BatchMean[i])
		setAt(l.RunningVar, i, (1-m)*at(l.RunningVar, i)+m*s.BatchVar[i]*unbias)
	}
	return nil
}

// Learnables returns the gain and bias.
func (l *BatchNorm) Learnables() G.Nodes { return G.Nodes{l.Gain, l.Bias} }

func at(t *tensor.Dense, i int) float64 {
	if t.Dtype() == tensor.Float32 {
		return float64(t.Float32s()[i])
	}
	return t.Float64s()[i]
}

// Vector reads a float32 or float64 value of any shape as float64s, row-major.
func Vector(v G.Value) ([]float64, error) {
	switch d := v.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out, nil
	case []float64:
		return append([]float64(nil), d...), nil
	case float32:
		return []float64{float64(d)}, nil
	case float64:
		return []float64{d}, nil
	}
	return nil, fmt.Errorf("nn: value of type %T: want float32 or float64 data", v.Data())
}
