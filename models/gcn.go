package models

import (
	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// GCN is the two-layer model of Kipf & Welling (ICLR 2017):
//
//	logits = A' relu(A' dropout(X) W1 + b1) W2 + b2,   A' = D^-1/2 (A+I) D^-1/2
//
// with dropout on the input and hidden features. The paper's setting for the citation graphs is
// hidden 16, dropout 0.5, Adam lr 0.01 with weight decay 5e-4 on the first layer.
type GCN struct {
	Conv1, Conv2 *nn.GCNConv
	Dropout      float64
}

// NewGCN adds a GCN's parameters to the context's graph.
func NewGCN(c *nn.Context, in, hidden, classes int, dropout float64) (*GCN, error) {
	c1, err := nn.NewGCNConv(c, "gcn1", in, hidden)
	if err != nil {
		return nil, err
	}
	c2, err := nn.NewGCNConv(c, "gcn2", hidden, classes)
	if err != nil {
		return nil, err
	}
	return &GCN{Conv1: c1, Conv2: c2, Dropout: dropout}, nil
}

// Layers returns the model as a stack: dropout, GCN, ReLU, dropout, GCN.
func (m *GCN) Layers(c *nn.Context) (nn.Sequential, error) {
	drop, err := nn.NewDropout(c, m.Dropout)
	if err != nil {
		return nil, err
	}
	return nn.Sequential{drop, m.Conv1, nn.Func(nn.ReLU), drop, m.Conv2}, nil
}

// Forward returns the logits, shape (nodes, classes).
func (m *GCN) Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error) {
	s, err := m.Layers(c)
	if err != nil {
		return nil, err
	}
	return s.ForwardFeatures(a, x)
}

// Learnables returns every parameter.
func (m *GCN) Learnables() G.Nodes { return append(m.Conv1.Learnables(), m.Conv2.Learnables()...) }

// Decayed returns the parameters the paper applies weight decay to: the first layer's.
func (m *GCN) Decayed() G.Nodes { return m.Conv1.Learnables() }
