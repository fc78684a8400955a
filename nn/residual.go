package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
)

// Residual wraps a block f with a skip connection (He et al. 2016):
//
//	y = f(x) + x          when In == Out
//	y = f(x) + x W_skip   when In != Out (a linear projection without bias)
//
// so stacks of any depth train without vanishing gradients. Sparse input features need the
// projection (In != Out); the identity skip of sparse features is an error. Over a sampled
// block, whose destinations are the first a.NumDst sources, the skip path keeps the first
// a.NumDst rows when the block returns fewer rows than it was given.
type Residual struct {
	In, Out int
	Skip    *Linear // nil for the identity
	Block   Layer
}

var _ interface {
	GraphLayer
	FeaturesLayer
} = (*Residual)(nil)

// NewResidual wraps block, which maps in features to out.
func NewResidual(c *Context, name string, in, out int, block Layer) (*Residual, error) {
	if block == nil {
		return nil, fmt.Errorf("nn: residual %q around no block", name)
	}
	r := &Residual{In: in, Out: out, Block: block}
	if in != out {
		var err error
		if r.Skip, err = NewLinear(c, name+".skip", in, out, false); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Forward returns block(a, x) plus the skip path.
func (r *Residual) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	return r.ForwardFeatures(a, Dense{x})
}

// ReadsGraph reports whether the block reads the graph.
func (r *Residual) ReadsGraph() bool { return ReadsGraph(r.Block) }

// ForwardFeatures is Forward for dense or sparse features; sparse ones need a block that is a
// FeaturesLayer and the projection.
func (r *Residual) ForwardFeatures(a *graph.CSR, x Features) (*G.Node, error) {
	var y *G.Node
	var err error
	if d, ok := x.(Dense); ok {
		y, err = r.Block.Forward(a, d.X)
	} else if f, ok := r.Block.(FeaturesLayer); ok {
		y, err = f.ForwardFeatures(a, x)
	} else {
		return nil, fmt.Errorf("nn: residual block %T takes dense input, got sparse features", r.Block)
	}
	if err != nil {
		return nil, err
	}
	var skip *G.Node
	if r.Skip != nil {
		if skip, err = r.Skip.Apply(x); err != nil {
			return nil, err
		}
	} else if d, ok := x.(Dense); ok {
		skip = d.X
	} else {
		return nil, fmt.Errorf("nn: identity residual over sparse features: give the residual a projection (in != out)")
	}
	if n := y.Shape()[0]; a != nil && n == a.NumDst && skip.Shape()[0] == a.NumSrc && n < a.NumSrc {
		if skip, err = firstRows(skip, n); err != nil {
			return nil, err
		}
	}
	if !y.Shape().Eq(skip.Shape()) {
		return nil, fmt.Errorf("nn: residual block output %v does not match the skip path %v", y.Shape(), skip.Shape())
	}
	return G.Add(y, skip)
}

// Learnables returns the projection's parameters and the block's, if it has any.
func (r *Residual) Learnables() G.Nodes {
	var ps G.Nodes
	if l, ok := r.Block.(Learner); ok {
		ps = append(ps, l.Learnables()...)
	}
	if r.Skip != nil {
		ps = append(ps, r.Skip.Learnables()...)
	}
	return ps
}
