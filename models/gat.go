package models

import (
	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// GAT is the two-layer transductive model of Velickovic et al. (ICLR 2018):
//
//	h      = ELU( GATConv_{heads x hidden, concat}( dropout(X) ) )
//	logits = GATConv_{outHeads x classes, mean}( dropout(h) )
//
// with dropout also on the attention coefficients. The paper's Cora setting: 8 heads x 8
// hidden, 1 output head, dropout 0.6, LeakyReLU slope 0.2, Adam lr 0.005, weight decay 5e-4
// on every parameter, early stopping with patience 100.
type GAT struct {
	Conv1, Conv2 *nn.GATConv
	Dropout      float64
}

// NewGAT adds a GAT's parameters to the context's graph, with arch.In input features,
// arch.Heads heads of arch.Hidden features (concatenated), arch.OutHeads output heads of
// arch.Classes (averaged) and dropout arch.Dropout; arch.Model is not read. The attention's
// LeakyReLU has the paper's slope 0.2.
func NewGAT(c *nn.Context, arch Architecture) (*GAT, error) {
	c1, err := nn.NewGATConv(c, "gat1", nn.GATConfig{In: arch.In, Out: arch.Hidden, Heads: arch.Heads, Concat: true, Dropout: arch.Dropout})
	if err != nil {
		return nil, err
	}
	c2, err := nn.NewGATConv(c, "gat2", nn.GATConfig{In: arch.Heads * arch.Hidden, Out: arch.Classes, Heads: arch.OutHeads, Concat: false, Dropout: arch.Dropout})
	if err != nil {
		return nil, err
	}
	return &GAT{Conv1: c1, Conv2: c2, Dropout: arch.Dropout}, nil
}

// Layers returns the model as a stack: dropout, GAT, ELU, dropout, GAT.
func (m *GAT) Layers(c *nn.Context) (nn.Sequential, error) {
	drop, err := nn.NewDropout(c, m.Dropout)
	if err != nil {
		return nil, err
	}
	return nn.Sequential{drop, m.Conv1, nn.Func(nn.ELU), drop, m.Conv2}, nil
}

// Forward returns the logits, shape (nodes, classes).
func (m *GAT) Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error) {
	s, err := m.Layers(c)
	if err != nil {
		return nil, err
	}
	return s.ForwardFeatures(a, x)
}

// Learnables returns every parameter.
func (m *GAT) Learnables() G.Nodes { return append(m.Conv1.Learnables(), m.Conv2.Learnables()...) }

// Decayed returns the parameters with weight decay: all of them, as in the paper.
func (m *GAT) Decayed() G.Nodes { return m.Learnables() }
