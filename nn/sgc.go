package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// SGC is the simple graph convolution of Wu, Souza, Zhang, Fifty, Yu and Weinberger,
// "Simplifying Graph Convolutional Networks" (ICML 2019, eq. 8): K steps of GCN propagation
// without nonlinearities, then one linear layer,
//
//	logits = P^K X W + b,   P = D^-1/2 (A+I) D^-1/2
//
// X is (nodes, In), W (In, Out) Glorot-initialised, b (Out). P^K X has no parameters, so when X is
// a constant input (a node without an op that is not a parameter of the context) it is
// computed once, outside the training graph, and cached for that graph and that value; an X
// computed by other layers is propagated in the graph at every run. The paper's setting for
// the citation graphs is K = 2, Adam lr 0.2, 100 epochs, a tuned weight decay, no dropout. The
// graph must be square, unweighted and without self-loops (ops.GCNPropagate).
type SGC struct {
	K   int
	Lin *Linear

	c          *Context
	cachedFor  *graph.CSR
	cachedX    G.Value
	propagated *tensor.Dense
}

// NewSGC adds an SGC layer with k >= 1 propagation steps to the context's graph.
func NewSGC(c *Context, name string, in, out, k int) (*SGC, error) {
	if k < 1 {
		return nil, fmt.Errorf("nn: SGC layer %q with %d propagation steps: want at least 1", name, k)
	}
	lin, err := NewLinear(c, name+".lin", in, out, true)
	if err != nil {
		return nil, err
	}
	return &SGC{K: k, Lin: lin, c: c}, nil
}

// Forward returns P^K x W + b for x of shape (a.NumDst, In).
func (l *SGC) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	if err := checkWidth("SGC layer", x, l.Lin.In); err != nil {
		return nil, err
	}
	if x.Shape()[0] != a.NumDst {
		return nil, fmt.Errorf("nn: SGC layer: x has %d rows for a graph of %d nodes", x.Shape()[0], a.NumDst)
	}
	var px *G.Node
	if l.constant(x) {
		v, err := l.precomputed(a, x)
		if err != nil {
			return nil, err
		}
		px = G.NewTensor(x.Graph(), v.Dtype(), 2, G.WithShape(v.Shape()...), G.WithValue(v), G.WithName(l.c.uniqueName("sgc_propagated")))
	} else {
		var err error
		if px, err = Propagate(a, x, l.K); err != nil {
			return nil, err
		}
	}
	return l.Lin.Forward(a, px)
}

// constant reports whether x is an input of fixed value: no op, a value, and not a parameter.
func (l *SGC) constant(x *G.Node) bool {
	if x.Op() != nil || x.Value() == nil {
		return false
	}
	for _, v := range l.c.shared.store {
		if G.Value(v) == x.Value() {
			return false
		}
	}
	return true
}

// precomputed returns P^K x, computed once per graph and value of x.
func (l *SGC) precomputed(a *graph.CSR, x *G.Node) (*tensor.Dense, error) {
	if l.propagated != nil && l.cachedFor == a && l.cachedX == x.Value() {
		return l.propagated, nil
	}
	v, err := PropagateValue(a, x.Value(), l.K)
	if err != nil {
		return nil, err
	}
	l.cachedFor, l.cachedX, l.propagated = a, x.Value(), v
	return v, nil
}

// Learnables returns the linear layer's parameters.
func (l *SGC) Learnables() G.Nodes { return l.Lin.Learnables() }

// Propagate returns P^K x in the graph of x, P = D^-1/2 (A+I) D^-1/2: k GCN propagations
// without weights or bias, on the message-passing API (a MessagePassing with GCNNorm, which runs
// as ops.GCNPropagate over a square, unweighted graph without self-loops).
func Propagate(a *graph.CSR, x *G.Node, k int) (*G.Node, error) {
	mp := NewGCNPropagation(nil)
	for i := 0; i < k; i++ {
		var err error
		if x, err = mp.Forward(a, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// PropagateValue returns P^K x for a value x of shape (a.NumDst, F), computed by Propagate in a
// graph of its own, as a new tensor.
func PropagateValue(a *graph.CSR, x G.Value, k int) (*tensor.Dense, error) {
	xd, ok := x.(*tensor.Dense)
	if !ok || xd.Dims() != 2 {
		return nil, fmt.Errorf("nn: propagate a value of type %T and shape %v: want a dense matrix", x, x.Shape())
	}
	g := G.NewGraph()
	in := G.NewTensor(g, xd.Dtype(), 2, G.WithShape(xd.Shape()...), G.WithValue(xd), G.WithName("x"))
	out, err := Propagate(a, in, k)
	if err != nil {
		return nil, err
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		return nil, err
	}
	// The op's output tensor is reused by its next run: keep a copy.
	return out.Value().(*tensor.Dense).Clone().(*tensor.Dense), nil
}

// ReadsGraph reports true. SGC, APPNP and GCNII propagate over whole square graphs (K hops of
// one graph), not over the per-hop blocks of a sampled mini-batch.
func (l *SGC) ReadsGraph() bool { return true }

var (
	_ GraphLayer = (*SGC)(nil)
	_ GraphLayer = (*APPNP)(nil)
	_ GraphLayer = (*GCNIIConv)(nil)
	_ GraphLayer = (*GCNII)(nil)
	_ Learner    = (*SGC)(nil)
	_ Learner    = (*APPNP)(nil)
	_ Learner    = (*GCNIIConv)(nil)
	_ Learner    = (*GCNII)(nil)
)
