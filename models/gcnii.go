package models

import (
	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// GCNII is the node classifier of Chen et al., "Simple and Deep Graph Convolutional Networks"
// (ICML 2020), as the authors' code builds it:
//
//	X0 = relu(dropout(X) W_in + b_in)
//	H  = nn.GCNII stack over X0 (Layers layers: dropout, GCNIIConv with initial residual X0, relu)
//	logits = dropout(H) W_out + b_out
//
// The paper trains the convolutions with weight decay 0.01 and the two dense layers with 5e-4
// (Setting.ConvDecay and TrainConfig.WeightDecay; Decayed returns the dense layers, Convs the
// convolutions).
type GCNII struct {
	In, Out *nn.Linear
	Stack   *nn.GCNII
	Dropout float64
}

// NewGCNII adds a GCNII model to the context's graph.
func NewGCNII(c *nn.Context, in, hidden, classes, layers int, alpha, lambda, dropout float64) (*GCNII, error) {
	lin, err := nn.NewLinear(c, "gcnii.in", in, hidden, true)
	if err != nil {
		return nil, err
	}
	stack, err := nn.NewGCNII(c, "gcnii", hidden, layers, alpha, lambda, dropout)
	if err != nil {
		return nil, err
	}
	lout, err := nn.NewLinear(c, "gcnii.out", hidden, classes, true)
	if err != nil {
		return nil, err
	}
	return &GCNII{In: lin, Out: lout, Stack: stack, Dropout: dropout}, nil
}

// Forward returns the logits, shape (nodes, classes).
func (m *GCNII) Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error) {
	x, err := x.Dropout(c, m.Dropout)
	if err != nil {
		return nil, err
	}
	h, err := m.In.Apply(x)
	if err != nil {
		return nil, err
	}
	if h, err = nn.ReLU(h); err != nil {
		return nil, err
	}
	if h, err = m.Stack.Forward(a, h); err != nil {
		return nil, err
	}
	if h, err = c.Dropout(h, m.Dropout); err != nil {
		return nil, err
	}
	return m.Out.Forward(a, h)
}

// Learnables returns every parameter.
func (m *GCNII) Learnables() G.Nodes {
	return append(append(m.In.Learnables(), m.Stack.Learnables()...), m.Out.Learnables()...)
}

// Decayed returns the dense layers' parameters, which the paper decays by 5e-4.
func (m *GCNII) Decayed() G.Nodes { return append(m.In.Learnables(), m.Out.Learnables()...) }

// Convs returns the convolutions' weights, which the paper decays by 0.01.
func (m *GCNII) Convs() G.Nodes { return m.Stack.Learnables() }
