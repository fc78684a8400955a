package models

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// DeepGCN is a stack of Depth GCN layers for studying depth:
//
//	plain:     h_1 = A' dropout(X) W_1,             h_{l+1} = A' dropout(relu(h_l)) W_{l+1}
//	residual:  h_1 = LayerNorm(A' dropout(X) W_1),  h_{l+1} = h_l + LayerNorm(A' dropout(relu(h_l)) W_{l+1})
//
// for the hidden layers, with the last layer mapping relu(h) to the classes; at depth 2 there is
// no hidden block and both stacks are the plain GCN. Without the skip connections repeated
// propagation smooths the features until the nodes cannot be told apart. With them, the first
// layer's output is normalised so that the skip path is on the scale of the normalised
// branches, and each branch's LayerNorm gain starts at BranchGain (0.1), so a deep stack starts
// close to the two-layer GCN and the deeper branches grow only as training finds them useful
// (as SkipInit and ReZero start residual branches near zero). Of the variants measured on Cora
// at depth 8 (pre-activation LayerNorm, conv-norm-relu, post-norm of the sum, an initial
// residual to h_1, unit and zero gains, no first-layer norm) this held accuracy best.
type DeepGCN struct {
	Convs    []*nn.GCNConv
	Stem     *nn.LayerNorm // the first layer's norm, residual stacks of depth > 2 only
	Norms    []*nn.LayerNorm
	Skips    []*nn.Residual // residual stacks: the skip connection around hidden block l+2, l = 0 .. Depth-3
	Residual bool
	Dropout  float64

	c *nn.Context
}

// BranchGain is the initial LayerNorm gain of a residual branch of DeepGCN.
const BranchGain = 0.1

// NewDeepGCN adds a depth-layer GCN stack (depth >= 2) to the context's graph.
func NewDeepGCN(c *nn.Context, in, hidden, classes, depth int, residual bool, dropout float64) (*DeepGCN, error) {
	if depth < 2 {
		return nil, fmt.Errorf("models: GCN stack of depth %d: want at least 2", depth)
	}
	if _, err := nn.NewDropout(c, dropout); err != nil {
		return nil, err
	}
	m := &DeepGCN{Residual: residual, Dropout: dropout, c: c}
	for l := 0; l < depth; l++ {
		din, dout := hidden, hidden
		if l == 0 {
			din = in
		}
		if l == depth-1 {
			dout = classes
		}
		conv, err := nn.NewGCNConv(c, fmt.Sprintf("gcn%d", l+1), din, dout)
		if err != nil {
			return nil, err
		}
		m.Convs = append(m.Convs, conv)
		if residual && depth > 2 && l == 0 {
			if m.Stem, err = nn.NewLayerNorm(c, "norm1", hidden); err != nil {
				return nil, err
			}
		}
		if residual && l > 0 && l < depth-1 {
			ln, err := nn.NewLayerNormGain(c, fmt.Sprintf("norm%d", l+1), hidden, BranchGain)
			if err != nil {
				return nil, err
			}
			m.Norms = append(m.Norms, ln)
			skip, err := nn.NewResidual(c, fmt.Sprintf("res%d", l+1), hidden, hidden, deepBlock{m, l})
			if err != nil {
				return nil, err
			}
			m.Skips = append(m.Skips, skip)
		}
	}
	return m, nil
}

// deepBlock is hidden block l of a DeepGCN: relu, dropout, GCN layer l and, in a residual
// stack, its LayerNorm. It reads the model's fields when it runs.
type deepBlock struct {
	m *DeepGCN
	l int
}

func (b deepBlock) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	drop, err := nn.NewDropout(b.m.c, b.m.Dropout)
	if err != nil {
		return nil, err
	}
	s := nn.Sequential{nn.Func(nn.ReLU), drop, b.m.Convs[b.l]}
	if b.m.Residual && b.l < len(b.m.Convs)-1 {
		s = append(s, b.m.Norms[b.l-1])
	}
	return s.Forward(a, x)
}

func (b deepBlock) ReadsGraph() bool { return true }

// Layers returns the model as a stack: dropout, the first GCN layer (and its norm), then each
// block, residual or not.
func (m *DeepGCN) Layers() (nn.Sequential, error) {
	drop, err := nn.NewDropout(m.c, m.Dropout)
	if err != nil {
		return nil, err
	}
	s := nn.Sequential{drop, m.Convs[0]}
	if m.Stem != nil {
		s = append(s, m.Stem)
	}
	last := len(m.Convs) - 1
	for l := 1; l <= last; l++ {
		if m.Residual && l < last {
			s = append(s, m.Skips[l-1])
		} else {
			s = append(s, deepBlock{m, l})
		}
	}
	return s, nil
}

// Forward returns the logits, shape (nodes, classes). c must be the context the model was
// built in.
func (m *DeepGCN) Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error) {
	if c != m.c {
		return nil, fmt.Errorf("models: DeepGCN run in another context than it was built in: build the model in each context")
	}
	s, err := m.Layers()
	if err != nil {
		return nil, err
	}
	return s.ForwardFeatures(a, x)
}

// Learnables returns every parameter.
func (m *DeepGCN) Learnables() G.Nodes {
	var ps G.Nodes
	for _, c := range m.Convs {
		ps = append(ps, c.Learnables()...)
	}
	if m.Stem != nil {
		ps = append(ps, m.Stem.Learnables()...)
	}
	for _, n := range m.Norms {
		ps = append(ps, n.Learnables()...)
	}
	return ps
}
