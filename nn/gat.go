package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// GATConfig sets up a graph attention layer.
type GATConfig struct {
	In, Out int // input features; output features per head
	Heads   int
	// Concat joins the heads' outputs (width Heads*Out); otherwise they are averaged (width
	// Out), as in the output layer of Velickovic et al.
	Concat bool
	// NegativeSlope is the slope of the LeakyReLU on the attention logits; 0 means the paper's
	// DefaultNegativeSlope (0.2). ZeroSlope asks for slope 0 (a plain ReLU) explicitly.
	NegativeSlope float64
	ZeroSlope     bool
	Dropout       float64 // on the attention coefficients, in training mode
	// NoSelfLoops leaves the graph as given; by default every node also attends to itself.
	NoSelfLoops bool
}

// DefaultNegativeSlope is the LeakyReLU slope of GAT's attention logits when the config leaves
// it at zero, the value of Velickovic et al. and Brody et al.
const DefaultNegativeSlope = 0.2

// slope returns the LeakyReLU slope a config asks for.
func slope(negativeSlope float64, zero bool) float64 {
	switch {
	case zero:
		return 0
	case negativeSlope == 0:
		return DefaultNegativeSlope
	}
	return negativeSlope
}

// GATConv is the multi-head graph attention layer of Velickovic et al. (ICLR 2018):
//
//	alpha_ij^h = softmax_j( LeakyReLU( a_dst^h . W^h x_i + a_src^h . W^h x_j ) )
//	x'_i       = ||_h sum_j alpha_ij^h W^h x_j   (or the mean over h) + b
//
// over the in-neighbours j of i (and i itself unless NoSelfLoops). W is a linear map to
// Heads*Out features, a_src and a_dst hold Heads vectors of Out. After a forward pass the
// attention coefficients are in the node Attention() (shape (E, Heads) over the edges of
// Graph()): read them with NodeAttention to see which neighbours a node attended to. The graph
// with self-loops is derived on the first Forward over a graph and cached (graphs are
// immutable, see graph.CSR).
type GATConv struct {
	Cfg            GATConfig
	Lin            *Linear
	AttSrc, AttDst *G.Node // (Heads*Out, 1): head h's vector at rows h*Out .. (h+1)*Out-1
	Bias           *G.Node
	meanOf         *G.Node // constant: the head-averaging matrix

	c     *Context
	loops derived[*graph.CSR]
	attention
}

var _ interface {
	GraphLayer
	FeaturesLayer
} = (*GATConv)(nil)

// NewGATConv adds a GAT layer's parameters to the context's graph.
func NewGATConv(c *Context, name string, cfg GATConfig) (*GATConv, error) {
	if cfg.Heads < 1 {
		return nil, fmt.Errorf("nn: GAT layer %q with %d heads: want at least 1", name, cfg.Heads)
	}
	if !(cfg.NegativeSlope >= 0) {
		return nil, fmt.Errorf("nn: GAT layer %q: negative slope %v must be >= 0 (0 means %v; set ZeroSlope for 0)", name, cfg.NegativeSlope, DefaultNegativeSlope)
	}
	cfg.NegativeSlope = slope(cfg.NegativeSlope, cfg.ZeroSlope)
	hf := cfg.Heads * cfg.Out
	lin, err := NewLinear(c, name+".lin", cfg.In, hf, false)
	if err != nil {
		return nil, err
	}
	l := &GATConv{Cfg: cfg, Lin: lin, c: c}
	l.AttSrc = c.param(name+".att_src", tensor.Shape{hf, 1}, GlorotFans(cfg.Heads, cfg.Out))
	l.AttDst = c.param(name+".att_dst", tensor.Shape{hf, 1}, GlorotFans(cfg.Heads, cfg.Out))
	width := cfg.Out
	if cfg.Concat {
		width = hf
	}
	l.Bias = c.param(name+".bias", tensor.Shape{width}, Zeros)

	l.meanOf = headMean(c, name, cfg.Heads, cfg.Out)
	return l, nil
}

// headMean returns the (heads*out, out) constant that averages the heads of a layer with heads
// of out features.
func headMean(c *Context, name string, heads, out int) *G.Node {
	avg := tensor.New(tensor.WithShape(heads*out, out), tensor.Of(c.Dtype))
	for h := 0; h < heads; h++ {
		for f := 0; f < out; f++ {
			setAt(avg, (h*out+f)*out+f, 1/float64(heads))
		}
	}
	return c.Constant(name+".head_mean", avg)
}

// headMask returns the (heads*out, heads) constant with mask[h*out+f][h] = 1: a matrix product
// with it sums each head's block of a row.
func headMask(c *Context, name string, heads, out int) *G.Node {
	m := tensor.New(tensor.WithShape(heads*out, heads), tensor.Of(c.Dtype))
	for h := 0; h < heads; h++ {
		for f := 0; f < out; f++ {
			setAt(m, (h*out+f)*heads+h, 1)
		}
	}
	return c.Constant(name+".head_mask", m)
}

func setAt(t *tensor.Dense, i int, v float64) {
	if t.Dtype() == tensor.Float32 {
		t.Float32s()[i] = float32(v)
	} else {
		t.Float64s()[i] = v
	}
}

// Forward applies the layer to the features x (a.NumDst, In) of the nodes of the square graph a.
func (l *GATConv) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	return l.ForwardFeatures(a, Dense{x})
}

// ReadsGraph reports true: the layer attends over the graph.
func (l *GATConv) ReadsGraph() bool { return true }

// ForwardFeatures applies the layer to node features x, dense or sparse, of a.NumDst nodes.
func (l *GATConv) ForwardFeatures(a *graph.CSR, x Features) (*G.Node, error) {
	g, err := l.loops.get(a, func(a *graph.CSR) (*graph.CSR, error) {
		if l.Cfg.NoSelfLoops {
			return a, nil
		}
		g, err := a.AddSelfLoops(1)
		if err != nil {
			return nil, fmt.Errorf("nn: GAT: %w", err)
		}
		return g, nil
	})
	if err != nil {
		return nil, err
	}
	h, err := l.Lin.Apply(x) // (N, Heads*Out)
	if err != nil {
		return nil, err
	}
	src, err := ops.HeadDot(h, l.AttSrc, l.Cfg.Heads) // (N, Heads)
	if err != nil {
		return nil, err
	}
	dst, err := ops.HeadDot(h, l.AttDst, l.Cfg.Heads)
	if err != nil {
		return nil, err
	}
	// Edge logits, LeakyReLU and the softmax over each node's in-edges in one op, with no
	// per-edge intermediates.
	alpha0, err := ops.GATSoftmax(g, src, dst, l.Cfg.NegativeSlope)
	if err != nil {
		return nil, err
	}
	l.attention = attention{graph: g, alpha: alpha0}
	alpha, err := l.c.Dropout(alpha0, l.Cfg.Dropout)
	if err != nil {
		return nil, err
	}
	out, err := ops.EdgeWeightedAggregate(g, h, alpha)
	if err != nil {
		return nil, err
	}
	return combineHeads(out, l.Cfg.Concat, l.Cfg.Heads, l.meanOf, l.Bias)
}

// combineHeads averages the heads of out (rows, heads*out) unless concat, and adds the bias.
func combineHeads(out *G.Node, concat bool, heads int, mean, bias *G.Node) (*G.Node, error) {
	if !concat && heads > 1 {
		var err error
		if out, err = G.Mul(out, mean); err != nil {
			return nil, err
		}
	}
	if bias == nil {
		return out, nil
	}
	return AddBias(out, bias)
}

// Learnables returns the layer's parameters.
func (l *GATConv) Learnables() G.Nodes {
	return append(l.Lin.Learnables(), l.AttSrc, l.AttDst, l.Bias)
}
