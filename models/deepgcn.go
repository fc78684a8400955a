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
	Skips    []*nn.Residual
	Residual bool
	Dropout  float64
}

// BranchGain is the initial LayerNorm gain of a residual branch of DeepGCN.
const BranchGain = 0.1

// NewDeepGCN adds a depth-layer GCN stack (depth >= 2) to the context's graph.
func NewDeepGCN(c *nn.Context, in, hidden, classes, depth int, residual bool, dropout float64) (*DeepGCN, error) {
	if depth < 2 {
		return nil, fmt.Errorf("models: GCN stack of depth %d: want at least 2", depth)
	}
	m := &DeepGCN{Residual: residual, Dropout: dropout}
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
		}
	}
	return m, nil
}

// Forward returns the logits, shape (nodes, classes).
func (m *DeepGCN) Forward(c *nn.Context, a *graph.CSR, x nn.Features) (*G.Node, error) {
	x, err := x.Dropout(c, m.Dropout)
	if err != nil {
		return nil, err
	}
	h, err := m.Convs[0].Forward(a, x)
	if err != nil {
		return nil, err
	}
	if m.Stem != nil {
		if h, err = m.Stem.Forward(h); err != nil {
			return nil, err
		}
	}
	last := len(m.Convs) - 1
	for l := 1; l <= last; l++ {
		conv := m.Convs[l]
		block := func(f nn.Features) (*G.Node, error) {
			z, err := nn.ReLU(f.(nn.Dense).X)
			if err != nil {
				return nil, err
			}
			zf, err := nn.Dense{X: z}.Dropout(c, m.Dropout)
			if err != nil {
				return nil, err
			}
			out, err := conv.Forward(a, zf)
			if err != nil || !m.Residual || l == last {
				return out, err
			}
			return m.Norms[l-1].Forward(out)
		}
		if m.Residual && l < last {
			skip, err := nn.NewResidual(c, fmt.Sprintf("res%d", l+1), conv.Lin.In, conv.Lin.Out, block)
			if err != nil {
				return nil, err
			}
			m.Skips = append(m.Skips, skip)
			h, err = skip.Forward(nn.Dense{X: h})
		} else {
			h, err = block(nn.Dense{X: h})
		}
		if err != nil {
			return nil, err
		}
	}
	return h, nil
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
