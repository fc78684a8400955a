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

// NewGAT adds a GAT's parameters to the context's graph.
func NewGAT(c *nn.Context, in, hidden, heads, classes, outHeads int, dropout float64) (*GAT, error) {
	c1, err := nn.NewGATConv(c, "gat1", nn.GATConfig{In: in, Out: hidden, Heads: heads, Concat: true, NegativeSlope: 0.2, Dropout: dropout})
	if err != nil {
		return nil, err
	}
	c2, err := nn.NewGATConv(c, "gat2", nn.GATConfig{In: heads * hidden, Out: classes, Heads: outHeads, Concat: false, NegativeSlope: 0.2, Dropout: dropout})
	if err != nil {
		return nil, err
	}
	return &GAT{Conv1: c1, Conv2: c2, Dropout: dropout}, nil
}

// Forward returns the logits, shape (nodes, classes).
func (m *GAT) Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error) {
	x, err := x.Dropout(c, m.Dropout)
	if err != nil {
		return nil, err
	}
	h, err := m.Conv1.Forward(c, a, x)
	if err != nil {
		return nil, err
	}
	if h, err = nn.ELU(h); err != nil {
		return nil, err
	}
	hf, err := nn.Dense{X: h}.Dropout(c, m.Dropout)
	if err != nil {
		return nil, err
	}
	return m.Conv2.Forward(c, a, hf)
}

// Learnables returns every parameter.
func (m *GAT) Learnables() G.Nodes { return append(m.Conv1.Learnables(), m.Conv2.Learnables()...) }

// Decayed returns the parameters with weight decay: all of them, as in the paper.
func (m *GAT) Decayed() G.Nodes { return m.Learnables() }
