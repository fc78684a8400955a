package nn

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Context is shared by the layers of one model while it is built and run.
//
// Parameters live in the context's parameter store by name, not in the expression graph: Next
// returns a context with a fresh graph over the same parameters, so a model can be rebuilt for
// every sampled mini-batch (whose graph shape differs) while training one set of weights, and
// then rebuilt once more over the full graph for inference.
type Context struct {
	Graph *G.ExprGraph
	Dtype tensor.Dtype

	shared *shared
	masks  []refresher
	names  map[string]int
	params G.Nodes
}

// shared is what the contexts returned by Next have in common.
type shared struct {
	rng      *rand.Rand
	training bool
	store    map[string]*tensor.Dense
	buffers  map[string]*tensor.Dense // non-learnable state by name: BatchNorm's running statistics
	// pending runs at the start of the next Refresh of any context sharing this: what reads the
	// values of the run in between (BatchNorm folding a training run's batch statistics).
	pending []func() error
}

// refresher is state set before each run: dropout masks, BatchNorm's mode.
type refresher interface {
	refresh(rng *rand.Rand, training bool) error
}

// NewContext returns a context for a model of dtype float32 or float64 whose initial weights and
// dropout masks come from seed.
func NewContext(dt tensor.Dtype, seed uint64) (*Context, error) {
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("nn: dtype %v: want float32 or float64", dt)
	}
	return &Context{
		Graph:  G.NewGraph(),
		Dtype:  dt,
		shared: &shared{rng: rand.New(rand.NewPCG(seed, 0x5eed)), training: true, store: map[string]*tensor.Dense{}, buffers: map[string]*tensor.Dense{}},
		names:  map[string]int{},
	}, nil
}

// Next returns a context with a new, empty expression graph that shares this one's parameters,
// random source and mode. Building the same model in it binds the same parameter tensors, in
// the same order, so one solver keeps training them.
func (c *Context) Next() *Context {
	return &Context{Graph: G.NewGraph(), Dtype: c.Dtype, shared: c.shared, names: map[string]int{}}
}

// Rand is the context's seeded random source.
func (c *Context) Rand() *rand.Rand { return c.shared.rng }

// SetTraining switches between training (dropout active) and evaluation; it takes effect at the
// next Refresh.
func (c *Context) SetTraining(on bool) { c.shared.training = on }

// Training reports the mode.
func (c *Context) Training() bool { return c.shared.training }

// Params returns the parameter nodes created in this context's graph, in creation order.
func (c *Context) Params() G.Nodes { return c.params }

// Refresh sets every dropout mask for the next run: freshly drawn in training mode, all ones in
// evaluation mode; and BatchNorm layers to batch statistics in training mode and running ones in
// evaluation mode, after folding the statistics of the last training run into the running ones.
// Call it once before each run of a machine over the context's graph.
func (c *Context) Refresh() error {
	pending := c.shared.pending
	c.shared.pending = nil
	for _, f := range pending {
		if err := f(); err != nil {
			return err
		}
	}
	for _, m := range c.masks {
		if err := m.refresh(c.shared.rng, c.shared.training); err != nil {
			return err
		}
	}
	return nil
}

// uniqueName returns name, suffixed with a counter if a layer of the model already used it, so
// every parameter has a distinct name in saved files and graph dumps.
func (c *Context) uniqueName(name string) string {
	k := c.names[name]
	c.names[name] = k + 1
	if k == 0 {
		return name
	}
	return fmt.Sprintf("%s_%d", name, k)
}

// Constant adds a non-learnable node holding v (input features, targets, masks).
func (c *Context) Constant(name string, v *tensor.Dense) *G.Node {
	return G.NewTensor(c.Graph, v.Dtype(), v.Dims(), G.WithShape(v.Shape()...), G.WithValue(v), G.WithName(c.uniqueName(name)))
}
