package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// LayerNorm normalises each row of a (n, F) matrix to zero mean and unit variance and applies a
// learned gain and bias (Ba et al. 2016):
//
//	y = (x - mean(x)) / sqrt(var(x) + eps) * gain + bias
//
// with the biased variance over the row, eps = 1e-5, gain initialised to 1 and bias to 0, as
// torch.nn.LayerNorm.
type LayerNorm struct {
	F          int
	Eps        float64
	Gain, Bias *G.Node
}

// NewLayerNorm adds a layer norm's parameters to the context's graph.
func NewLayerNorm(c *Context, name string, f int) (*LayerNorm, error) {
	return NewLayerNormGain(c, name, f, 1)
}

// NewLayerNormGain is NewLayerNorm with the gain initialised to gain instead of 1, as a residual
// branch that should start small wants.
func NewLayerNormGain(c *Context, name string, f int, gain float64) (*LayerNorm, error) {
	if f <= 0 {
		return nil, fmt.Errorf("nn: layer norm %q over %d features: want at least 1", name, f)
	}
	return &LayerNorm{
		F: f, Eps: 1e-5,
		Gain: c.param(name+".weight", tensor.Shape{f}, Constant(gain)),
		Bias: c.param(name+".bias", tensor.Shape{f}, Zeros),
	}, nil
}

// Forward normalises x of shape (n, F); the graph is ignored.
func (l *LayerNorm) Forward(_ *graph.CSR, x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 2 || s[1] != l.F {
		return nil, fmt.Errorf("nn: layer norm over %d features got shape %v", l.F, s)
	}
	col := func(v *G.Node) (*G.Node, error) { return G.Reshape(v, tensor.Shape{s[0], 1}) }
	mean, err := G.Mean(x, 1)
	if err != nil {
		return nil, err
	}
	if mean, err = col(mean); err != nil {
		return nil, err
	}
	d, err := G.BroadcastSub(x, mean, nil, []byte{1})
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(d)
	if err != nil {
		return nil, err
	}
	v, err := G.Mean(sq, 1)
	if err != nil {
		return nil, err
	}
	eps := G.NewConstant(l.Eps)
	if x.Dtype() == tensor.Float32 {
		eps = G.NewConstant(float32(l.Eps))
	}
	if v, err = G.Add(v, eps); err != nil {
		return nil, err
	}
	std, err := G.Sqrt(v)
	if err != nil {
		return nil, err
	}
	if std, err = col(std); err != nil {
		return nil, err
	}
	y, err := G.BroadcastHadamardDiv(d, std, nil, []byte{1})
	if err != nil {
		return nil, err
	}
	if y, err = G.BroadcastHadamardProd(y, l.Gain, nil, []byte{0}); err != nil {
		return nil, err
	}
	return AddBias(y, l.Bias)
}

// Learnables returns the gain and bias.
func (l *LayerNorm) Learnables() G.Nodes { return G.Nodes{l.Gain, l.Bias} }
