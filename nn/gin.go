package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// GINConfig sets up a GIN or GINE layer.
type GINConfig struct {
	In int // input features
	// Eps is epsilon's initial value (default 0); TrainEps makes it a parameter (name.eps,
	// shape (1), shared across Context.Next), as PyTorch Geometric's train_eps.
	Eps      float64
	TrainEps bool
	// EdgeDim is the width of the edge attributes (GINE only); when it differs from In they are
	// projected to In by a Linear layer (name.lin_edge), as PyTorch Geometric's edge_dim.
	EdgeDim int
}

// GINConv is the graph isomorphism network layer of Xu, Hu, Leskovec and Jegelka, "How Powerful
// are Graph Neural Networks?" (ICLR 2019), and, with edge attributes, GINE of Hu et al.,
// "Strategies for Pre-training Graph Neural Networks" (ICLR 2020), written on MessagePassing:
//
//	GIN:   x'_i = h( (1 + eps) x_i + sum_{j -> i} x_j )
//	GINE:  x'_i = h( (1 + eps) x_i + sum_{j -> i} ReLU(x_j + e_ji) )      (e_ji projected to In if needed)
//
// where h is a Layer mapping In features to the output, usually an MLP (NewMLP). The sum is
// injective on multisets, which makes GIN as discriminative as the Weisfeiler-Lehman test. GIN's
// message is the plain source row, so its sum runs on the fused kernel (ops.SumAggregate); GINE's
// per-edge messages are gathered and scattered (ops.GatherSrc, ops.ScatterSum). On a sampled
// block x_i is row i, the destinations being the first sources.
//
// When h is an MLP (NewMLP) whose first layer narrows (Out < In) and the layer has no edge
// attributes, the layer multiplies by that first weight before it aggregates: the sum over
// neighbours of x_j W is (sum x_j) W, so the same function, but the sum then reads Out columns
// per edge instead of In (DGL's GraphConv orders its product by the same rule). The bias
// follows the sum, and h's other layers run as usual.
type GINConv struct {
	Cfg     GINConfig
	NN      Layer
	Eps     *G.Node // (1): a parameter with TrainEps, else a constant
	LinEdge *Linear // GINE with EdgeDim != In
	edge    bool    // GINE
	mp      *MessagePassing
	// first and rest split h when its first layer narrows (see the type's comment): mpFirst
	// sums rows of x first.W and then applies first's bias and rest.
	first   *Linear
	rest    Sequential
	mpFirst *MessagePassing
}

var _ GraphLayer = (*GINConv)(nil)

// NewGINConv returns a GIN layer applying h after the aggregation.
func NewGINConv(c *Context, name string, h Layer, cfg GINConfig) (*GINConv, error) {
	return newGIN(c, name, h, cfg, false)
}

// NewGINEConv returns a GINE layer (edge attributes of width cfg.EdgeDim) applying h after
// the aggregation.
func NewGINEConv(c *Context, name string, h Layer, cfg GINConfig) (*GINConv, error) {
	if cfg.EdgeDim <= 0 {
		return nil, fmt.Errorf("nn: GINE layer %q with edge dimension %d: want the width of the edge attributes", name, cfg.EdgeDim)
	}
	return newGIN(c, name, h, cfg, true)
}

func newGIN(c *Context, name string, h Layer, cfg GINConfig, edge bool) (*GINConv, error) {
	if h == nil {
		return nil, fmt.Errorf("nn: GIN layer %q with no network h: give it an MLP", name)
	}
	if cfg.In <= 0 {
		return nil, fmt.Errorf("nn: GIN layer %q with %d input features: want at least 1", name, cfg.In)
	}
	l := &GINConv{Cfg: cfg, NN: h, edge: edge}
	if cfg.TrainEps {
		l.Eps = c.param(name+".eps", tensor.Shape{1}, Constant(cfg.Eps))
	} else {
		l.Eps = c.Constant(name+".eps", newFrom(c.Dtype, tensor.Shape{1}, []float64{cfg.Eps}))
	}
	if edge && cfg.EdgeDim != cfg.In {
		var err error
		if l.LinEdge, err = NewLinear(c, name+".lin_edge", cfg.EdgeDim, cfg.In, true); err != nil {
			return nil, err
		}
	}
	message := func(e *Edges) (Message, error) { return CopySrc(e.X), nil }
	if edge {
		message = l.edgeMessage
	}
	mp, err := NewMessagePassing(c, SumAggr, message)
	if err != nil {
		return nil, err
	}
	mp.Update = l.update
	l.mp = mp
	if m, ok := h.(*MLP); ok && !edge && len(m.Lins) > 0 && len(m.Layers) > 0 && m.Layers[0] == Layer(m.Lins[0]) && m.Lins[0].Out < m.Lins[0].In {
		if l.mpFirst, err = NewMessagePassing(c, SumAggr, message); err != nil {
			return nil, err
		}
		l.first, l.rest = m.Lins[0], m.Layers[1:]
		l.mpFirst.Update = l.updateFirst
	}
	return l, nil
}

// edgeMessage is GINE's ReLU(x_j + e_ji).
func (l *GINConv) edgeMessage(e *Edges) (Message, error) {
	xj, err := e.Src(e.X)
	if err != nil {
		return Message{}, err
	}
	attr, err := e.Attr()
	if err != nil {
		return Message{}, err
	}
	if w := attr.Shape()[1]; w != l.Cfg.EdgeDim {
		return Message{}, fmt.Errorf("nn: GINE layer: edge attributes of width %d, configured %d", w, l.Cfg.EdgeDim)
	}
	if l.LinEdge != nil {
		if attr, err = l.LinEdge.Forward(nil, attr); err != nil {
			return Message{}, err
		}
	}
	v, err := ReLU(G.Must(G.Add(xj, attr)))
	return Message{Value: v}, err
}

// update is h((1 + eps) x_i + aggr_i).
func (l *GINConv) update(e *Edges, aggr *G.Node) (*G.Node, error) {
	sum, err := l.combine(e, aggr)
	if err != nil {
		return nil, err
	}
	return l.NN.Forward(nil, sum)
}

// updateFirst is rest((1 + eps) (x W)_i + aggr_i + b), e.X being x W.
func (l *GINConv) updateFirst(e *Edges, aggr *G.Node) (*G.Node, error) {
	sum, err := l.combine(e, aggr)
	if err != nil {
		return nil, err
	}
	if sum, err = l.first.addBias(sum); err != nil {
		return nil, err
	}
	return l.rest.Forward(nil, sum)
}

// combine returns (1 + eps) e.X_i + aggr_i.
func (l *GINConv) combine(e *Edges, aggr *G.Node) (*G.Node, error) {
	root, err := e.Root(e.X)
	if err != nil {
		return nil, err
	}
	eps, err := G.Reshape(l.Eps, tensor.Shape{1, 1})
	if err != nil {
		return nil, err
	}
	scaled, err := G.BroadcastHadamardProd(root, eps, nil, []byte{0, 1})
	if err != nil {
		return nil, err
	}
	return G.Add(G.Must(G.Add(root, scaled)), aggr)
}

// Forward applies the layer to the features x (a.NumSrc, In).
func (l *GINConv) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	if s := x.Shape(); len(s) != 2 || s[1] != l.Cfg.In {
		return nil, fmt.Errorf("nn: GIN layer over %d features got shape %v", l.Cfg.In, s)
	}
	if l.first != nil {
		xw, err := l.first.product(Dense{x})
		if err != nil {
			return nil, err
		}
		return l.mpFirst.Forward(a, xw)
	}
	return l.mp.Forward(a, x)
}

// ReadsGraph reports true.
func (l *GINConv) ReadsGraph() bool { return true }

// Learnables returns eps (with TrainEps), the edge projection's and h's parameters.
func (l *GINConv) Learnables() G.Nodes {
	var ps G.Nodes
	if l.Cfg.TrainEps {
		ps = append(ps, l.Eps)
	}
	if l.LinEdge != nil {
		ps = append(ps, l.LinEdge.Learnables()...)
	}
	if h, ok := l.NN.(Learner); ok {
		ps = append(ps, h.Learnables()...)
	}
	return ps
}
