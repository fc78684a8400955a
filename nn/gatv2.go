package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// GATv2Config sets up a GATv2 layer: GATConfig's fields (NegativeSlope 0 means 0.2) plus
// sharing of the two projections and edge attributes in the scores.
type GATv2Config struct {
	GATConfig
	// ShareWeights uses one projection for sources and destinations (W_l = W_r).
	ShareWeights bool
	// EdgeDim > 0 adds W_e e_ji (edge attributes of that width, projected to Heads*Out) inside
	// the score, as PyTorch Geometric's edge_dim.
	EdgeDim int
	// GeneralScores computes the scores with general per-edge ops (Edges.SrcAddDst, ReLU, a
	// matmul) even where the fused score kernel applies (no edge attributes).
	GeneralScores bool
}

// GATv2Conv is the dynamic graph attention layer of Brody, Alon and Yahav, "How Attentive are
// Graph Attention Networks?" (ICLR 2022), written on MessagePassing:
//
//	e_ij^h     = a^h . LeakyReLU( W_l^h x_j + W_r^h x_i [+ W_e^h e_ji] )
//	alpha_ij^h = softmax_j( e_ij^h )
//	x'_i       = ||_h sum_j alpha_ij^h W_l^h x_j   (or the mean over h) + b
//
// over the in-neighbours j of i (and i itself unless NoSelfLoops; a self-loop's attributes are
// ones). Unlike GAT, the attention vector a is applied after the nonlinearity, so the ranking of
// neighbours depends on the query node. W_l and W_r map In to Heads*Out features with biases (as
// PyTorch Geometric's GATv2Conv), a holds Heads vectors of Out, b is zero-initialised. The
// message is the plain source row W_l x_j, so after the per-edge scores the aggregation runs on
// the fused kernels (ops.EdgeSoftmax, ops.EdgeWeightedAggregate). Without edge attributes the
// scores themselves are one fused op with no per-edge rows of width Heads*Out (GeneralScores
// turns it off; both paths are tested against each other). After a forward pass Attention,
// Graph and NodeAttention read the coefficients as GATConv's do.
type GATv2Conv struct {
	Cfg        GATv2Config
	LinL, LinR *Linear // LinR == LinL with ShareWeights
	LinEdge    *Linear // EdgeDim > 0 only
	Att        *G.Node // (Heads*Out, 1): head h's vector at rows h*Out .. (h+1)*Out-1
	Bias       *G.Node
	meanOf     *G.Node

	mp *MessagePassing
	*attention
}

var _ interface {
	GraphLayer
	FeaturesLayer
} = (*GATv2Conv)(nil)

// NewGATv2Conv adds a GATv2 layer's parameters to the context's graph.
func NewGATv2Conv(c *Context, name string, cfg GATv2Config) (*GATv2Conv, error) {
	if cfg.Heads < 1 {
		return nil, fmt.Errorf("nn: GATv2 layer %q with %d heads: want at least 1", name, cfg.Heads)
	}
	if !(cfg.NegativeSlope >= 0 && cfg.NegativeSlope <= 1) {
		return nil, fmt.Errorf("nn: GATv2 layer %q: negative slope %v: want 0 <= slope <= 1 (0 means %v; set ZeroSlope for 0)", name, cfg.NegativeSlope, DefaultNegativeSlope)
	}
	if cfg.EdgeDim < 0 {
		return nil, fmt.Errorf("nn: GATv2 layer %q with edge dimension %d: want 0 (none) or more", name, cfg.EdgeDim)
	}
	cfg.NegativeSlope = slope(cfg.NegativeSlope, cfg.ZeroSlope)
	hf := cfg.Heads * cfg.Out
	l := &GATv2Conv{Cfg: cfg}
	var err error
	if l.LinL, err = NewLinear(c, name+".lin_l", cfg.In, hf, true); err != nil {
		return nil, err
	}
	l.LinR = l.LinL
	if !cfg.ShareWeights {
		if l.LinR, err = NewLinear(c, name+".lin_r", cfg.In, hf, true); err != nil {
			return nil, err
		}
	}
	if cfg.EdgeDim > 0 {
		if l.LinEdge, err = NewLinear(c, name+".lin_edge", cfg.EdgeDim, hf, false); err != nil {
			return nil, err
		}
	}
	l.Att = c.param(name+".att", tensor.Shape{hf, 1}, GlorotFans(cfg.Heads, cfg.Out))
	width := cfg.Out
	if cfg.Concat {
		width = hf
	}
	l.Bias = c.param(name+".bias", tensor.Shape{width}, Zeros)
	l.meanOf = headMean(c, name, cfg.Heads, cfg.Out)
	l.mp = &MessagePassing{Aggr: SoftmaxAggr, SelfLoops: !cfg.NoSelfLoops, AttentionDropout: cfg.Dropout, c: c}
	l.attention = &l.mp.attention
	return l, nil
}

// Forward applies the layer to the features x (a.NumDst, In) of the nodes of the graph a.
func (l *GATv2Conv) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	return l.ForwardFeatures(a, Dense{x})
}

// ReadsGraph reports true.
func (l *GATv2Conv) ReadsGraph() bool { return true }

// ForwardFeatures applies the layer to dense or sparse features.
func (l *GATv2Conv) ForwardFeatures(a *graph.CSR, x Features) (*G.Node, error) {
	xl, err := l.LinL.Apply(x) // (N, Heads*Out)
	if err != nil {
		return nil, err
	}
	xr := xl
	if l.LinR != l.LinL {
		if xr, err = l.LinR.Apply(x); err != nil {
			return nil, err
		}
	}
	out, err := l.mp.run(a, xl, func(e *Edges) (Message, error) {
		if l.LinEdge == nil && !l.Cfg.GeneralScores {
			root, err := e.Root(xr)
			if err != nil {
				return Message{}, err
			}
			score, err := gatv2Scores(e.Graph, xl, root, l.Att, l.Cfg.Heads, l.Cfg.NegativeSlope)
			return Message{Src: xl, Score: score}, err
		}
		s, err := e.SrcAddDst(xl, xr) // (E, Heads*Out): x_l[j] + x_r[i]
		if err != nil {
			return Message{}, err
		}
		if l.LinEdge != nil {
			attr, err := e.Attr()
			if err != nil {
				return Message{}, err
			}
			ew, err := l.LinEdge.Forward(nil, attr)
			if err != nil {
				return Message{}, err
			}
			if s, err = G.Add(s, ew); err != nil {
				return Message{}, err
			}
		}
		score, err := l.score(s)
		return Message{Src: xl, Score: score}, err
	})
	if err != nil {
		return nil, err
	}
	return combineHeads(out, l.Cfg.Concat, l.Cfg.Heads, l.meanOf, l.Bias)
}

// score returns a . LeakyReLU(s) per head, (E, Heads), for s = x_l[j] + x_r[i] [+ W_e e_ji].
func (l *GATv2Conv) score(s *G.Node) (*G.Node, error) {
	v, err := LeakyReLU(s, l.Cfg.NegativeSlope)
	if err != nil {
		return nil, err
	}
	return ops.HeadDot(v, l.Att, l.Cfg.Heads)
}

// Learnables returns the layer's parameters.
func (l *GATv2Conv) Learnables() G.Nodes {
	ps := l.LinL.Learnables()
	if l.LinR != l.LinL {
		ps = append(ps, l.LinR.Learnables()...)
	}
	if l.LinEdge != nil {
		ps = append(ps, l.LinEdge.Learnables()...)
	}
	return append(ps, l.Att, l.Bias)
}
