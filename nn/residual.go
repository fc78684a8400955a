package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// Residual wraps a block f with a skip connection (He et al. 2016):
//
//	y = f(x) + x          when f keeps the width
//	y = f(x) + x W_skip   otherwise (a linear projection without bias), or when x is sparse
//
// so stacks of any depth train without vanishing gradients.
type Residual struct {
	In, Out int
	Skip    *Linear // nil for the identity
	Block   func(x Features) (*G.Node, error)
}

// NewResidual wraps block, which maps in features to out.
func NewResidual(c *Context, name string, in, out int, block func(x Features) (*G.Node, error)) (*Residual, error) {
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

// Forward returns block(x) plus the skip path.
func (r *Residual) Forward(x Features) (*G.Node, error) {
	y, err := r.Block(x)
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
	if !y.Shape().Eq(skip.Shape()) {
		return nil, fmt.Errorf("nn: residual block output %v does not match the skip path %v", y.Shape(), skip.Shape())
	}
	return G.Add(y, skip)
}

// Learnables returns the projection's parameters (the block's own are the block's).
func (r *Residual) Learnables() G.Nodes {
	if r.Skip == nil {
		return nil
	}
	return r.Skip.Learnables()
}
