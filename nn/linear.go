package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

var _ FeaturesLayer = (*Linear)(nil)

// Linear is a dense layer, y = x W + b, with W of shape (in, out) initialised Glorot-uniform and b
// of shape (out) initialised to zero (nil when built without bias).
type Linear struct {
	In, Out int
	W, B    *G.Node
}

// NewLinear adds a linear layer's parameters to the context's graph. name prefixes the
// parameter names.
func NewLinear(c *Context, name string, in, out int, bias bool) (*Linear, error) {
	if in <= 0 || out <= 0 {
		return nil, fmt.Errorf("nn: linear layer %q with %d inputs and %d outputs: both must be positive", name, in, out)
	}
	l := &Linear{In: in, Out: out}
	l.W = c.param(name+".weight", tensor.Shape{in, out}, Glorot)
	if bias {
		l.B = c.param(name+".bias", tensor.Shape{out}, Zeros)
	}
	return l, nil
}

// Forward returns x W + b for x of shape (n, In); the graph is ignored.
func (l *Linear) Forward(_ *graph.CSR, x *G.Node) (*G.Node, error) { return l.Apply(Dense{x}) }

// ForwardFeatures returns x W + b for dense or sparse x; the graph is ignored.
func (l *Linear) ForwardFeatures(_ *graph.CSR, x Features) (*G.Node, error) { return l.Apply(x) }

// Apply returns x W + b for dense or sparse features x with In columns.
func (l *Linear) Apply(x Features) (*G.Node, error) {
	xw, err := l.product(x)
	if err != nil {
		return nil, err
	}
	return l.addBias(xw)
}

// product returns x W, without the bias.
func (l *Linear) product(x Features) (*G.Node, error) {
	if _, f := x.Shape(); f != l.In {
		return nil, fmt.Errorf("nn: linear layer %s expects %d input features, got %d", l.W.Name(), l.In, f)
	}
	if d, ok := x.(Dense); ok && len(d.X.Shape()) == 2 && d.X.Shape()[0] > 1 {
		// The same product as gorgonia.Mul, written into one tensor run after run.
		return ops.MatMul(d.X, l.W)
	}
	return x.Mul(l.W)
}

func (l *Linear) addBias(xw *G.Node) (*G.Node, error) {
	if l.B == nil {
		return xw, nil
	}
	return AddBias(xw, l.B)
}

// Learnables returns the layer's parameters.
func (l *Linear) Learnables() G.Nodes {
	if l.B == nil {
		return G.Nodes{l.W}
	}
	return G.Nodes{l.W, l.B}
}

// AddBias adds the vector b to every row of the matrix x.
func AddBias(x, b *G.Node) (*G.Node, error) {
	return ops.AddBias(x, b)
}
