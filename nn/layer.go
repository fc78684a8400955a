package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
)

// Layer is what every layer of the package implements, as every PyTorch Geometric layer is
// forward(x, edge_index): Forward maps the (rows, in) matrix x to the layer's output over the
// graph a. A message-passing layer reads x as the features of a's a.NumSrc sources and returns
// one row per destination (a.NumDst rows; on a sampled block the destinations are the first
// NumDst sources); a layer that ignores the graph (Linear, the activations, Dropout, LayerNorm,
// BatchNorm, MLP) maps row to row and accepts a nil a. A layer is built in one Context, whose
// graph its Forward adds nodes to.
type Layer interface {
	Forward(a *graph.CSR, x *G.Node) (*G.Node, error)
}

// GraphLayer is implemented by layers that read the graph. Sequential.ForwardBlocks gives each
// of them, in order, the next hop's block of a sampled mini-batch, and the other layers nil.
// ReadsGraph reports whether this layer does (a Residual reads the graph when its block does).
type GraphLayer interface {
	Layer
	ReadsGraph() bool
}

// FeaturesLayer is implemented by layers that can take the sparse input features of a first
// layer (*SparseFeatures) as well as dense ones, multiplying only the nonzeros: Linear and the
// layers that project their input first (GCNConv, GATConv, SAGEConv, Residual with a
// projection). Sequential.ForwardFeatures passes sparse features through Dropout layers (which
// drop their nonzeros) to the first such layer.
type FeaturesLayer interface {
	Layer
	ForwardFeatures(a *graph.CSR, x Features) (*G.Node, error)
}

// Learner is implemented by layers that own parameters.
type Learner interface {
	Learnables() G.Nodes
}

// ReadsGraph reports whether l reads the graph (implements GraphLayer and says so).
func ReadsGraph(l Layer) bool {
	g, ok := l.(GraphLayer)
	return ok && g.ReadsGraph()
}

// Func is a parameter-free row-wise function as a Layer, such as Func(ReLU) or Func(ELU).
type Func func(x *G.Node) (*G.Node, error)

// Forward returns f(x); the graph is ignored.
func (f Func) Forward(_ *graph.CSR, x *G.Node) (*G.Node, error) { return f(x) }

// Dropout is dropout with probability P as a layer (see Context.Dropout): active in training
// mode, the identity in evaluation mode.
type Dropout struct {
	P float64
	c *Context
}

// NewDropout returns a dropout layer of probability p (0 <= p < 1) in the context.
func NewDropout(c *Context, p float64) (*Dropout, error) {
	if p < 0 || p >= 1 || p != p {
		return nil, fmt.Errorf("nn: dropout probability %v: want 0 <= p < 1", p)
	}
	return &Dropout{P: p, c: c}, nil
}

// Forward applies dropout to x; the graph is ignored.
func (d *Dropout) Forward(_ *graph.CSR, x *G.Node) (*G.Node, error) { return d.c.Dropout(x, d.P) }

// Sequential is a stack of layers applied in order, as torch.nn.Sequential:
//
//	model := nn.Sequential{drop1, conv1, nn.Func(nn.ReLU), drop2, conv2}
//	logits, err := model.Forward(a, x)                  // full graph, dense input
//	logits, err := model.ForwardFeatures(a, sparseX)   // full graph, sparse input
//	logits, err := model.ForwardBlocks(blocks, sparseX) // sampled mini-batch, one block per conv
//
// A Sequential is itself a Layer (and a GraphLayer and FeaturesLayer), so stacks nest.
type Sequential []Layer

var (
	_ GraphLayer    = Sequential(nil)
	_ FeaturesLayer = Sequential(nil)
)

// Forward runs every layer over the graph a.
func (s Sequential) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	return s.ForwardFeatures(a, Dense{x})
}

// ForwardFeatures runs every layer over the graph a, with input features that may be sparse:
// they pass through Dropout layers and are taken by the first FeaturesLayer.
func (s Sequential) ForwardFeatures(a *graph.CSR, x Features) (*G.Node, error) {
	return s.run(func(Layer) (*graph.CSR, error) { return a, nil }, x)
}

// ForwardBlocks runs the stack over a sampled mini-batch (graph.CSR.Sample, or FullBlocks for
// layer-wise full inference): the k-th layer that reads the graph gets blocks[k].Graph, the
// others nil, and x holds the features of blocks[0]'s sources. Each layer that reads the graph
// must take one hop (a nested Sequential takes as many as it has graph layers), and there must
// be one block per hop.
func (s Sequential) ForwardBlocks(blocks []graph.Block, x Features) (*G.Node, error) {
	if h := s.hops(); h != len(blocks) {
		return nil, fmt.Errorf("nn: sequential stack reads the graph %d times, got %d blocks: sample one block per graph layer", h, len(blocks))
	}
	k := 0
	return s.run(func(l Layer) (*graph.CSR, error) {
		if !ReadsGraph(l) {
			return nil, nil
		}
		if _, nested := l.(Sequential); nested {
			return nil, fmt.Errorf("nn: a nested Sequential over blocks: flatten it into the outer one")
		}
		k++
		return blocks[k-1].Graph, nil
	}, x)
}

// run applies the layers in order, each over the graph graphOf returns for it.
func (s Sequential) run(graphOf func(Layer) (*graph.CSR, error), x Features) (*G.Node, error) {
	for i, l := range s {
		a, err := graphOf(l)
		if err != nil {
			return nil, err
		}
		if d, ok := x.(Dense); ok {
			h, err := l.Forward(a, d.X)
			if err != nil {
				return nil, fmt.Errorf("layer %d (%T): %w", i, l, err)
			}
			x = Dense{h}
			continue
		}
		switch l := l.(type) {
		case *Dropout:
			x, err = x.Dropout(l.c, l.P)
		case FeaturesLayer:
			var h *G.Node
			h, err = l.ForwardFeatures(a, x)
			x = Dense{h}
		default:
			return nil, fmt.Errorf("nn: layer %d (%T) takes dense input, got sparse features: put a Linear or a convolution first", i, l)
		}
		if err != nil {
			return nil, fmt.Errorf("layer %d (%T): %w", i, l, err)
		}
	}
	d, ok := x.(Dense)
	if !ok {
		return nil, fmt.Errorf("nn: sequential stack ends with sparse features: add a Linear or a convolution")
	}
	return d.X, nil
}

// ReadsGraph reports whether any layer reads the graph.
func (s Sequential) ReadsGraph() bool { return s.hops() > 0 }

// hops counts the layers that read the graph.
func (s Sequential) hops() int {
	n := 0
	for _, l := range s {
		if q, ok := l.(Sequential); ok {
			n += q.hops()
		} else if ReadsGraph(l) {
			n++
		}
	}
	return n
}

// Learnables returns the parameters of every layer that has some, in order.
func (s Sequential) Learnables() G.Nodes {
	var ps G.Nodes
	for _, l := range s {
		if p, ok := l.(Learner); ok {
			ps = append(ps, p.Learnables()...)
		}
	}
	return ps
}

// derived caches what a layer derives from the last graph it saw (a normalised copy, a copy
// with self-loops), as PyTorch Geometric's cached=True does. A graph.CSR is immutable once
// built, so the cache is keyed by the graph's identity: its pointer and, to catch a struct
// whose slices were swapped for others, the identity and lengths of its slices. Editing a
// graph's slices in place breaks the graph's contract and is not detected.
type derived[T any] struct {
	key graphKey
	val T
}

type graphKey struct {
	g              *graph.CSR
	rowPtr         *int
	colIdx         *int32
	weights        *float32
	nSrc, nDst, ne int
	nw             int
}

func keyOf(a *graph.CSR) graphKey {
	k := graphKey{g: a, nSrc: a.NumSrc, nDst: a.NumDst, ne: len(a.ColIdx), nw: len(a.Weights)}
	if len(a.RowPtr) > 0 {
		k.rowPtr = &a.RowPtr[0]
	}
	if len(a.ColIdx) > 0 {
		k.colIdx = &a.ColIdx[0]
	}
	if len(a.Weights) > 0 {
		k.weights = &a.Weights[0]
	}
	return k
}

// get returns the value derived from a, deriving it when a is not the graph of the last call.
func (d *derived[T]) get(a *graph.CSR, derive func(*graph.CSR) (T, error)) (T, error) {
	if a == nil {
		var zero T
		return zero, fmt.Errorf("nn: a graph layer was given no graph")
	}
	k := keyOf(a)
	if d.key.g != nil && d.key == k {
		return d.val, nil
	}
	v, err := derive(a)
	if err != nil {
		return v, err
	}
	d.key, d.val = k, v
	return v, nil
}
