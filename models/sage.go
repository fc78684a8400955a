package models

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// SAGE is a two-layer GraphSAGE model (Hamilton et al., NeurIPS 2017) for node classification:
//
//	logits = SAGEConv_2( dropout( relu( SAGEConv_1( dropout(X) ) ) ) )
//
// run on the two blocks of a sampled mini-batch (graph.CSR.Sample) or on graph.CSR.FullBlocks
// for full-graph inference. Being inductive, the trained weights embed nodes never seen in
// training.
type SAGE struct {
	Conv1, Conv2 *nn.SAGEConv
	Dropout      float64
}

// NewSAGE adds a GraphSAGE model's parameters to the context's graph.
func NewSAGE(c *nn.Context, in, hidden, classes int, aggr nn.Aggregator, dropout float64) (*SAGE, error) {
	c1, err := nn.NewSAGEConv(c, "sage1", nn.SAGEConfig{In: in, Out: hidden, Aggr: aggr})
	if err != nil {
		return nil, err
	}
	// The second layer's max-pool and LSTM aggregators work at the hidden width, not at the
	// number of classes: an LSTM with as few units as there are classes is a bottleneck.
	c2, err := nn.NewSAGEConv(c, "sage2", nn.SAGEConfig{In: hidden, Out: classes, Aggr: aggr, PoolHidden: hidden})
	if err != nil {
		return nil, err
	}
	return &SAGE{Conv1: c1, Conv2: c2, Dropout: dropout}, nil
}

// Forward returns the logits of blocks[1]'s destinations; x holds the features of blocks[0]'s
// sources.
func (m *SAGE) Forward(c *nn.Context, blocks []graph.Block, x nn.Features) (*G.Node, error) {
	if len(blocks) != 2 {
		return nil, fmt.Errorf("models: SAGE has 2 layers, got %d blocks", len(blocks))
	}
	s, err := m.Layers(c)
	if err != nil {
		return nil, err
	}
	return s.ForwardBlocks(blocks, x)
}

// Layers returns the model as a stack: dropout, SAGE, ReLU, dropout, SAGE.
func (m *SAGE) Layers(c *nn.Context) (nn.Sequential, error) {
	drop, err := nn.NewDropout(c, m.Dropout)
	if err != nil {
		return nil, err
	}
	return nn.Sequential{drop, m.Conv1, nn.Func(nn.ReLU), drop, m.Conv2}, nil
}

// Learnables returns every parameter.
func (m *SAGE) Learnables() G.Nodes { return append(m.Conv1.Learnables(), m.Conv2.Learnables()...) }
