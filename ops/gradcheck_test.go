package ops

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// buildFunc applies the op under test to input nodes.
type buildFunc func(g *G.ExprGraph, in []*G.Node) (*G.Node, error)

// randDense returns a tensor of the given shape with values uniform in [-1, 1).
func randDense(rng *rand.Rand, dt tensor.Dtype, shape ...int) *tensor.Dense {
	n := tensor.Shape(shape).TotalSize()
	if dt == tensor.Float32 {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(rng.Float64()*2 - 1)
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = rng.Float64()*2 - 1
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

func at(t *tensor.Dense, i int) float64 {
	if t.Dtype() == tensor.Float32 {
		return float64(t.Float32s()[i])
	}
	return t.Float64s()[i]
}

func set(t *tensor.Dense, i int, v float64) {
	if t.Dtype() == tensor.Float32 {
		t.Float32s()[i] = float32(v)
	} else {
		t.Float64s()[i] = v
	}
}

// checkGrad compares the gradients gorgonia.Grad computes through the op with central finite
// differences of loss = sum(op(inputs) * R) for a fixed random R, at up to 40 sampled
// elements of every input. The finite differences sum the loss in float64 from the op's output,
// so a float32 op is checked to its own precision, not to that of a float32 reduction.
func checkGrad(t *testing.T, build buildFunc, inputs ...*tensor.Dense) {
	t.Helper()
	dt := inputs[0].Dtype()
	rng := rand.New(rand.NewPCG(7, 11))
	g := G.NewGraph()
	nodes := make([]*G.Node, len(inputs))
	for k, in := range inputs {
		nodes[k] = G.NewTensor(g, dt, in.Dims(), G.WithShape(in.Shape()...), G.WithValue(in), G.WithName(string(rune('a'+k))))
	}
	out, err := build(g, nodes)
	if err != nil {
		t.Fatal(err)
	}
	rv := randDense(rng, dt, out.Shape()...)
	r := G.NewTensor(g, dt, out.Dims(), G.WithShape(out.Shape()...), G.WithValue(rv), G.WithName("r"))
	var outVal G.Value
	G.Read(out, &outVal)
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(out, r))))
	if _, err := G.Grad(loss, nodes...); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	run := func() float64 {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		ov := outVal.(*tensor.Dense)
		sum := 0.0
		for i := 0; i < ov.Len(); i++ {
			sum += at(ov, i) * at(rv, i)
		}
		return sum
	}
	run()
	analytic := make([][]float64, len(nodes))
	for k, n := range nodes {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		gd := gv.(*tensor.Dense)
		analytic[k] = make([]float64, gd.Len())
		for i := range analytic[k] {
			analytic[k][i] = at(gd, i)
		}
	}
	h, tol := 1e-6, 1e-6
	if dt == tensor.Float32 {
		h, tol = 1e-2, 1e-3
	}
	for k, in := range inputs {
		for s := 0; s < 40 && s < in.Len(); s++ {
			i := s
			if in.Len() > 40 {
				i = rng.IntN(in.Len())
			}
			v := at(in, i)
			set(in, i, v+h)
			G.Let(nodes[k], in)
			up := run()
			set(in, i, v-h)
			G.Let(nodes[k], in)
			down := run()
			set(in, i, v)
			G.Let(nodes[k], in)
			num := (up - down) / (2 * h)
			if d := math.Abs(num - analytic[k][i]); d > tol*(1+math.Abs(num)) {
				t.Errorf("%v input %d element %d: analytic gradient %.8g, numeric %.8g", dt, k, i, analytic[k][i], num)
			}
		}
	}
}
