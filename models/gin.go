package models

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// GIN is a two-layer node classifier of GIN layers (Xu et al., "How Powerful are Graph Neural
// Networks?", ICLR 2019), each with the paper's two-layer MLP with BatchNorm as its update and
// eps = 0 (GIN-0, the paper's best variant):
//
//	h      = relu( GIN_{MLP in -> hidden -> hidden}( dropout(X) ) )
//	logits = GIN_{MLP hidden -> hidden -> classes}( dropout(h) )
//
// The paper classifies whole graphs; this is its layer on node classification. Sparse features
// are made dense first: GIN sums the raw rows of the neighbours before its MLP.
type GIN struct {
	Conv1, Conv2 *nn.GINConv
	MLP1, MLP2   *nn.MLP
	Dropout      float64
}

// NewGIN adds a GIN model to the context's graph.
func NewGIN(c *nn.Context, in, hidden, classes int, dropout float64) (*GIN, error) {
	if !(dropout >= 0 && dropout < 1) {
		return nil, fmt.Errorf("models: GIN with dropout %v: want 0 <= dropout < 1", dropout)
	}
	m := &GIN{Dropout: dropout}
	var err error
	if m.MLP1, err = nn.NewMLP(c, "gin1.mlp", nn.MLPConfig{Dims: []int{in, hidden, hidden}, BatchNorm: true}); err != nil {
		return nil, err
	}
	if m.Conv1, err = nn.NewGINConv(c, "gin1", m.MLP1, nn.GINConfig{In: in}); err != nil {
		return nil, err
	}
	if m.MLP2, err = nn.NewMLP(c, "gin2.mlp", nn.MLPConfig{Dims: []int{hidden, hidden, classes}, BatchNorm: true}); err != nil {
		return nil, err
	}
	if m.Conv2, err = nn.NewGINConv(c, "gin2", m.MLP2, nn.GINConfig{In: hidden}); err != nil {
		return nil, err
	}
	return m, nil
}

// Forward returns the logits, shape (nodes, classes).
func (m *GIN) Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error) {
	xn, err := denseNode(c, x)
	if err != nil {
		return nil, err
	}
	if xn, err = c.Dropout(xn, m.Dropout); err != nil {
		return nil, err
	}
	h, err := m.Conv1.Forward(a, xn)
	if err != nil {
		return nil, err
	}
	if h, err = nn.ReLU(h); err != nil {
		return nil, err
	}
	if h, err = c.Dropout(h, m.Dropout); err != nil {
		return nil, err
	}
	return m.Conv2.Forward(a, h)
}

// Learnables returns every parameter.
func (m *GIN) Learnables() G.Nodes { return append(m.Conv1.Learnables(), m.Conv2.Learnables()...) }

// Decayed returns every parameter.
func (m *GIN) Decayed() G.Nodes { return m.Learnables() }
