package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Init fills a new parameter's values, row-major, for a tensor of the given shape, drawing any
// randomness from rng (the context's seeded source, so a seed gives the same weights).
type Init func(rng *rand.Rand, shape tensor.Shape, data []float64)

// Glorot is Glorot/Xavier uniform initialisation, U(-a, a) with a = sqrt(6 / (fanIn + fanOut)),
// as PyTorch Geometric's glorot: for a matrix (in, out) the fans are in and out; for a tensor of
// more dimensions the last two; for a vector its length twice.
func Glorot(rng *rand.Rand, shape tensor.Shape, data []float64) {
	fanIn, fanOut := shape[0], shape[0]
	if len(shape) >= 2 {
		fanIn, fanOut = shape[len(shape)-2], shape[len(shape)-1]
	}
	GlorotFans(fanIn, fanOut)(rng, shape, data)
}

// GlorotFans is Glorot with explicit fans, for parameters stored in another layout than
// (fanIn, fanOut), as GAT's per-head attention vectors.
func GlorotFans(fanIn, fanOut int) Init {
	a := math.Sqrt(6 / float64(fanIn+fanOut))
	return func(rng *rand.Rand, _ tensor.Shape, data []float64) {
		for i := range data {
			data[i] = (rng.Float64()*2 - 1) * a
		}
	}
}

// Zeros sets every value to 0.
func Zeros(_ *rand.Rand, _ tensor.Shape, data []float64) { clear(data) }

// Ones sets every value to 1.
func Ones(rng *rand.Rand, shape tensor.Shape, data []float64) { Constant(1)(rng, shape, data) }

// Constant sets every value to v.
func Constant(v float64) Init {
	return func(_ *rand.Rand, _ tensor.Shape, data []float64) {
		for i := range data {
			data[i] = v
		}
	}
}

// Uniform draws every value from U(lo, hi).
func Uniform(lo, hi float64) Init {
	return func(rng *rand.Rand, _ tensor.Shape, data []float64) {
		for i := range data {
			data[i] = lo + rng.Float64()*(hi-lo)
		}
	}
}

// Normal draws every value from N(mean, std^2).
func Normal(mean, std float64) Init {
	return func(rng *rand.Rand, _ tensor.Shape, data []float64) {
		for i := range data {
			data[i] = mean + std*rng.NormFloat64()
		}
	}
}

// Param returns a learnable node of the given shape named name (suffixed _1, _2, ... when the
// model already used the name), as torch's register_parameter. Its value lives in the context's
// parameter store: a model rebuilt in a context from Next binds the same tensor, so one solver
// trains it across mini-batches. The first time a name is seen (or when the stored tensor has
// another shape, as a model rebuilt with another size), the tensor is created and filled by
// init; init nil is Glorot. The node is listed by Params.
func (c *Context) Param(name string, shape tensor.Shape, init Init) (*G.Node, error) {
	if name == "" {
		return nil, fmt.Errorf("nn: parameter with no name: give every parameter a name, which saved files use")
	}
	if len(shape) == 0 {
		return nil, fmt.Errorf("nn: parameter %q with an empty shape: use shape {1} for a scalar", name)
	}
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("nn: parameter %q of shape %v: every dimension must be positive", name, shape)
		}
	}
	if init == nil {
		init = Glorot
	}
	return c.param(name, shape, init), nil
}

// param is Param for shapes the caller has checked.
func (c *Context) param(name string, shape tensor.Shape, init Init) *G.Node {
	name = c.uniqueName(name)
	v, ok := c.shared.store[name]
	if !ok || !v.Shape().Eq(shape) {
		data := make([]float64, shape.TotalSize())
		init(c.shared.rng, shape, data)
		v = newFrom(c.Dtype, shape, data)
		c.shared.store[name] = v
	}
	n := G.NewTensor(c.Graph, c.Dtype, len(shape), G.WithShape(shape...), G.WithValue(v), G.WithName(name))
	c.params = append(c.params, n)
	return n
}

// newFrom returns a tensor of dtype dt holding data.
func newFrom(dt tensor.Dtype, shape tensor.Shape, data []float64) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	}
	d := make([]float32, len(data))
	for i, x := range data {
		d[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}
