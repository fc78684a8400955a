package nn

import (
	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// GCNConv is the graph convolution of Kipf & Welling (ICLR 2017):
//
//	X' = D^-1/2 (A+I) D^-1/2 X W + b
//
// with W of shape (in, out), Glorot-initialised, and b of shape (out). X W is computed first and
// then propagated, which is cheaper when out < in (as PyTorch Geometric's GCNConv does). The
// normalised graph is computed on first use of a graph and cached, so pass the same *graph.CSR
// every time.
type GCNConv struct {
	Lin  *Linear
	Bias *G.Node

	cachedFor *graph.CSR
	cached    *graph.CSR // the normalised graph, when the fused propagation does not apply
	fused     bool
}

// NewGCNConv adds a GCN layer's parameters to the context's graph.
func NewGCNConv(c *Context, name string, in, out int) (*GCNConv, error) {
	lin, err := NewLinear(c, name+".lin", in, out, false)
	if err != nil {
		return nil, err
	}
	return &GCNConv{Lin: lin, Bias: c.param(name+".bias", []int{out}, zeros)}, nil
}

// Forward applies the layer to node features x (dense or sparse) of a.NumDst nodes.
func (l *GCNConv) Forward(a *graph.CSR, x Features) (*G.Node, error) {
	xw, err := l.Lin.Apply(x)
	if err != nil {
		return nil, err
	}
	return l.propagate(a, xw)
}

func (l *GCNConv) propagate(a *graph.CSR, xw *G.Node) (*G.Node, error) {
	if l.cachedFor != a {
		// A square unweighted graph without self-loops (the usual case) is propagated by one
		// op that normalises on the fly and adds the bias; any other graph through its
		// normalised copy.
		l.cachedFor, l.cached, l.fused = a, nil, ops.GCNPropagateSupports(a) == nil
		if !l.fused {
			norm, err := a.GCNNorm()
			if err != nil {
				return nil, err
			}
			l.cached = norm
		}
	}
	if l.fused {
		return ops.GCNPropagate(a, xw, l.Bias)
	}
	h, err := ops.WeightedAggregate(l.cached, xw)
	if err != nil {
		return nil, err
	}
	return AddBias(h, l.Bias)
}

// Learnables returns the layer's parameters.
func (l *GCNConv) Learnables() G.Nodes { return append(l.Lin.Learnables(), l.Bias) }
