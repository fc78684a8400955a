package models

import (
	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// APPNP is the node classifier of Klicpera et al., "Predict then Propagate: Graph Neural
// Networks meet Personalized PageRank" (ICLR 2019), as the authors' code builds it: a two-layer
// MLP without biases predicts per node, and nn.APPNP propagates the predictions,
//
//	H = relu(dropout(X) W1) ;   logits = APPNP_K,alpha(dropout(H) W2)
//
// with the same dropout rate on the entries of the propagation matrix at every step
// (nn.APPNP.EdgeDropout), as the authors' TensorFlow code, and with weight decay (the paper's
// L2 regularisation 5e-3) on W1 only.
type APPNP struct {
	L1, L2  *nn.Linear
	Prop    *nn.APPNP
	Dropout float64
}

// NewAPPNP adds an APPNP model to the context's graph.
func NewAPPNP(c *nn.Context, in, hidden, classes, k int, alpha, dropout float64) (*APPNP, error) {
	l1, err := nn.NewLinear(c, "appnp.lin1", in, hidden, false)
	if err != nil {
		return nil, err
	}
	l2, err := nn.NewLinear(c, "appnp.lin2", hidden, classes, false)
	if err != nil {
		return nil, err
	}
	prop, err := nn.NewAPPNP(c, k, alpha, dropout)
	if err != nil {
		return nil, err
	}
	return &APPNP{L1: l1, L2: l2, Prop: prop, Dropout: dropout}, nil
}

// Forward returns the logits, shape (nodes, classes).
func (m *APPNP) Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error) {
	x, err := x.Dropout(c, m.Dropout)
	if err != nil {
		return nil, err
	}
	h, err := m.L1.Apply(x)
	if err != nil {
		return nil, err
	}
	if h, err = nn.ReLU(h); err != nil {
		return nil, err
	}
	if h, err = c.Dropout(h, m.Dropout); err != nil {
		return nil, err
	}
	if h, err = m.L2.Forward(a, h); err != nil {
		return nil, err
	}
	return m.Prop.Forward(a, h)
}

// Learnables returns every parameter.
func (m *APPNP) Learnables() G.Nodes { return append(m.L1.Learnables(), m.L2.Learnables()...) }

// Decayed returns the first layer's weight, the only one the paper regularises.
func (m *APPNP) Decayed() G.Nodes { return m.L1.Learnables() }
