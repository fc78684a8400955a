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
// then propagated, which is cheaper when out < in (as PyTorch Geometric's GCNConv does). A
// square unweighted graph without self-loops is propagated by one fused op (ops.GCNPropagate)
// that normalises on the fly; any other graph through its normalised copy, computed on the
// first Forward over that graph and cached (graphs are immutable, see graph.CSR).
type GCNConv struct {
	Lin  *Linear
	Bias *G.Node

	norm derived[*graph.CSR] // the normalised graph, nil when the fused propagation applies
}

// NewGCNConv adds a GCN layer's parameters to the context's graph.
func NewGCNConv(c *Context, name string, in, out int) (*GCNConv, error) {
	lin, err := NewLinear(c, name+".lin", in, out, false)
	if err != nil {
		return nil, err
	}
	return &GCNConv{Lin: lin, Bias: c.param(name+".bias", []int{out}, Zeros)}, nil
}

var _ interface {
	GraphLayer
	FeaturesLayer
} = (*GCNConv)(nil)

// Forward applies the layer to the features x (a.NumDst, in) of the nodes of the square graph a.
func (l *GCNConv) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	return l.ForwardFeatures(a, Dense{x})
}

// ReadsGraph reports true: the layer propagates over the graph.
func (l *GCNConv) ReadsGraph() bool { return true }

// ForwardFeatures applies the layer to node features x, dense or sparse, of a.NumDst nodes.
func (l *GCNConv) ForwardFeatures(a *graph.CSR, x Features) (*G.Node, error) {
	xw, err := l.Lin.Apply(x)
	if err != nil {
		return nil, err
	}
	return l.propagate(a, xw)
}

func (l *GCNConv) propagate(a *graph.CSR, xw *G.Node) (*G.Node, error) {
	norm, err := l.norm.get(a, func(a *graph.CSR) (*graph.CSR, error) {
		if ops.GCNPropagateSupports(a) == nil {
			return nil, nil
		}
		return a.GCNNorm()
	})
	if err != nil {
		return nil, err
	}
	if norm == nil {
		return ops.GCNPropagate(a, xw, l.Bias)
	}
	h, err := ops.WeightedAggregate(norm, xw)
	if err != nil {
		return nil, err
	}
	return AddBias(h, l.Bias)
}

// Learnables returns the layer's parameters.
func (l *GCNConv) Learnables() G.Nodes { return append(l.Lin.Learnables(), l.Bias) }
