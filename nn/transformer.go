package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// TransformerConfig sets up a graph transformer layer.
type TransformerConfig struct {
	In, Out int // input features; output features per head
	Heads   int
	// Concat joins the heads' outputs (width Heads*Out); otherwise they are averaged.
	Concat bool
	// Beta gates the root and the aggregation (Shi et al.'s eq. 5) instead of adding them.
	Beta bool
	// Dropout is on the attention coefficients, in training mode.
	Dropout float64
	// EdgeDim > 0 adds the projected edge attributes W_e e_ji to keys and values.
	EdgeDim int
	// NoRoot drops the root term W_r x_i.
	NoRoot bool
}

// TransformerConv is the graph transformer layer of Shi et al., "Masked Label Prediction:
// Unified Message Passing Model for Semi-Supervised Classification" (IJCAI 2021), as PyTorch
// Geometric's TransformerConv, written on MessagePassing:
//
//	alpha_ij^h = softmax_j( (W_q^h x_i) . (W_k^h x_j [+ W_e^h e_ji]) / sqrt(Out) )
//	m_i        = ||_h sum_j alpha_ij^h (W_v^h x_j [+ W_e^h e_ji])     (or the mean over h)
//	x'_i       = W_r x_i + m_i
//	x'_i       = beta_i W_r x_i + (1 - beta_i) m_i,   beta_i = sigmoid(w_b . [W_r x_i, m_i, W_r x_i - m_i])   (Beta)
//
// over the in-neighbours j of i (no self-loops are added). W_q, W_k, W_v map In to Heads*Out with
// biases, W_e (EdgeDim to Heads*Out) has none, W_r maps to the output width with a bias. Without
// edge attributes the value is the plain source row W_v x_j, so the aggregation runs on the fused
// kernels. Attention, Graph and NodeAttention read the coefficients after a Forward.
type TransformerConv struct {
	Cfg                    TransformerConfig
	LinQ, LinK, LinV, LinE *Linear // LinE: EdgeDim > 0 only
	LinR                   *Linear // nil with NoRoot
	BetaW                  *G.Node // (3*width, 1), Beta only
	headMask, meanOf       *G.Node
	scale                  *G.Node

	mp *MessagePassing
	*attention
}

var _ interface {
	GraphLayer
	FeaturesLayer
} = (*TransformerConv)(nil)

// NewTransformerConv adds a graph transformer layer's parameters to the context's graph.
func NewTransformerConv(c *Context, name string, cfg TransformerConfig) (*TransformerConv, error) {
	if cfg.Heads < 1 {
		return nil, fmt.Errorf("nn: transformer layer %q with %d heads: want at least 1", name, cfg.Heads)
	}
	if cfg.EdgeDim < 0 {
		return nil, fmt.Errorf("nn: transformer layer %q with edge dimension %d: want 0 (none) or more", name, cfg.EdgeDim)
	}
	if cfg.Beta && cfg.NoRoot {
		return nil, fmt.Errorf("nn: transformer layer %q: Beta gates the root term, which NoRoot drops", name)
	}
	hf := cfg.Heads * cfg.Out
	l := &TransformerConv{Cfg: cfg}
	var err error
	for _, p := range []struct {
		lin  **Linear
		name string
	}{{&l.LinK, ".lin_key"}, {&l.LinQ, ".lin_query"}, {&l.LinV, ".lin_value"}} {
		if *p.lin, err = NewLinear(c, name+p.name, cfg.In, hf, true); err != nil {
			return nil, err
		}
	}
	if cfg.EdgeDim > 0 {
		if l.LinE, err = NewLinear(c, name+".lin_edge", cfg.EdgeDim, hf, false); err != nil {
			return nil, err
		}
	}
	width := cfg.Out
	if cfg.Concat {
		width = hf
	}
	if !cfg.NoRoot {
		if l.LinR, err = NewLinear(c, name+".lin_skip", cfg.In, width, true); err != nil {
			return nil, err
		}
	}
	if cfg.Beta {
		l.BetaW = c.param(name+".lin_beta", tensor.Shape{3 * width, 1}, Glorot)
	}
	l.headMask, l.meanOf = headMask(c, name, cfg.Heads, cfg.Out), headMean(c, name, cfg.Heads, cfg.Out)
	l.scale = c.Constant(name+".scale", newFrom(c.Dtype, tensor.Shape{1, 1}, []float64{1 / math.Sqrt(float64(cfg.Out))}))
	l.mp = &MessagePassing{Aggr: SoftmaxAggr, AttentionDropout: cfg.Dropout, c: c}
	l.attention = &l.mp.attention
	return l, nil
}

// Forward applies the layer to the features x (a.NumSrc, In).
func (l *TransformerConv) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	return l.ForwardFeatures(a, Dense{x})
}

// ReadsGraph reports true.
func (l *TransformerConv) ReadsGraph() bool { return true }

// ForwardFeatures applies the layer to dense or sparse features.
func (l *TransformerConv) ForwardFeatures(a *graph.CSR, x Features) (*G.Node, error) {
	if a == nil {
		return nil, fmt.Errorf("nn: transformer layer was given no graph")
	}
	q, err := l.LinQ.Apply(x)
	if err != nil {
		return nil, err
	}
	k, err := l.LinK.Apply(x)
	if err != nil {
		return nil, err
	}
	v, err := l.LinV.Apply(x)
	if err != nil {
		return nil, err
	}
	out, err := l.mp.run(a, v, func(e *Edges) (Message, error) {
		qi, err := e.Dst(q)
		if err != nil {
			return Message{}, err
		}
		kj, err := e.Src(k)
		if err != nil {
			return Message{}, err
		}
		var ew *G.Node
		if l.LinE != nil {
			attr, err := e.Attr()
			if err != nil {
				return Message{}, err
			}
			if ew, err = l.LinE.Forward(nil, attr); err != nil {
				return Message{}, err
			}
			if kj, err = G.Add(kj, ew); err != nil {
				return Message{}, err
			}
		}
		qk, err := G.HadamardProd(qi, kj)
		if err != nil {
			return Message{}, err
		}
		score, err := G.Mul(qk, l.headMask) // (E, Heads): per-head dot products
		if err != nil {
			return Message{}, err
		}
		if score, err = G.BroadcastHadamardProd(score, l.scale, nil, []byte{0, 1}); err != nil {
			return Message{}, err
		}
		if ew == nil {
			return Message{Src: v, Score: score}, nil
		}
		vj, err := e.Src(v)
		if err != nil {
			return Message{}, err
		}
		val, err := G.Add(vj, ew)
		return Message{Value: val, Score: score}, err
	})
	if err != nil {
		return nil, err
	}
	if out, err = combineHeads(out, l.Cfg.Concat, l.Cfg.Heads, l.meanOf, nil); err != nil {
		return nil, err
	}
	if l.LinR == nil {
		return out, nil
	}
	all, err := l.LinR.Apply(x)
	if err != nil {
		return nil, err
	}
	root, err := firstRows(all, a.NumDst)
	if err != nil {
		return nil, err
	}
	if !l.Cfg.Beta {
		return G.Add(root, out)
	}
	diff, err := G.Sub(root, out)
	if err != nil {
		return nil, err
	}
	cat, err := G.Concat(1, root, out, diff)
	if err != nil {
		return nil, err
	}
	beta, err := G.Sigmoid(G.Must(G.Mul(cat, l.BetaW))) // (n, 1)
	if err != nil {
		return nil, err
	}
	// beta root + (1 - beta) out = out + beta (root - out)
	gated, err := G.BroadcastHadamardProd(diff, beta, nil, []byte{1})
	if err != nil {
		return nil, err
	}
	return G.Add(out, gated)
}

// Learnables returns the layer's parameters.
func (l *TransformerConv) Learnables() G.Nodes {
	var ps G.Nodes
	for _, lin := range []*Linear{l.LinK, l.LinQ, l.LinV, l.LinE, l.LinR} {
		if lin != nil {
			ps = append(ps, lin.Learnables()...)
		}
	}
	if l.BetaW != nil {
		ps = append(ps, l.BetaW)
	}
	return ps
}
