package models

import (
	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// GATv2 is the two-layer model of GAT with GATv2 layers (Brody et al., ICLR 2022), written on
// the general message-passing path (nn.GATv2Conv):
//
//	h      = ELU( GATv2Conv_{heads x hidden, concat}( dropout(X) ) )
//	logits = GATv2Conv_{outHeads x classes, mean}( dropout(h) )
//
// with dropout also on the attention coefficients and the LeakyReLU slope 0.2.
type GATv2 struct {
	Conv1, Conv2 *nn.GATv2Conv
	Dropout      float64
}

// NewGATv2 adds a GATv2 model's parameters to the context's graph, with the fields of arch
// that NewGAT reads.
func NewGATv2(c *nn.Context, arch Architecture) (*GATv2, error) {
	c1, err := nn.NewGATv2Conv(c, "gatv2_1", nn.GATv2Config{GATConfig: nn.GATConfig{In: arch.In, Out: arch.Hidden, Heads: arch.Heads, Concat: true, Dropout: arch.Dropout}})
	if err != nil {
		return nil, err
	}
	c2, err := nn.NewGATv2Conv(c, "gatv2_2", nn.GATv2Config{GATConfig: nn.GATConfig{In: arch.Heads * arch.Hidden, Out: arch.Classes, Heads: arch.OutHeads, Dropout: arch.Dropout}})
	if err != nil {
		return nil, err
	}
	return &GATv2{Conv1: c1, Conv2: c2, Dropout: arch.Dropout}, nil
}

// Layers returns the model as a stack: dropout, GATv2, ELU, dropout, GATv2.
func (m *GATv2) Layers(c *nn.Context) (nn.Sequential, error) {
	drop, err := nn.NewDropout(c, m.Dropout)
	if err != nil {
		return nil, err
	}
	return nn.Sequential{drop, m.Conv1, nn.Func(nn.ELU), drop, m.Conv2}, nil
}

// Forward returns the logits, shape (nodes, classes).
func (m *GATv2) Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error) {
	s, err := m.Layers(c)
	if err != nil {
		return nil, err
	}
	return s.ForwardFeatures(a, x)
}

// Learnables returns every parameter.
func (m *GATv2) Learnables() G.Nodes {
	return append(m.Conv1.Learnables(), m.Conv2.Learnables()...)
}

// Decayed returns the parameters with weight decay: all of them, as GAT.
func (m *GATv2) Decayed() G.Nodes { return m.Learnables() }
