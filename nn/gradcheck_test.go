package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradCheck checks, by central differences, the gradient of sum(out * R) for a fixed random R
// with respect to the first elements of each of params (a float64 model), so a wrong backward
// anywhere in a composed layer is caught.
func gradCheck(t *testing.T, c *Context, out *G.Node, params G.Nodes) {
	t.Helper()
	loss := out // a scalar is the loss itself
	if !out.IsScalar() {
		rng := rand.New(rand.NewPCG(1, 1))
		r := make([]float64, out.Shape().TotalSize())
		for i := range r {
			r[i] = rng.NormFloat64()
		}
		rn := c.Constant("r", tensor.New(tensor.WithShape(out.Shape()...), tensor.WithBacking(r)))
		loss = G.Must(G.Sum(G.Must(G.HadamardProd(out, rn))))
	}
	if _, err := G.Grad(loss, params...); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	eval := func() float64 {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		return loss.Value().Data().(float64)
	}
	eval()
	for _, p := range params {
		gv, err := p.Grad()
		if err != nil {
			t.Fatal(err)
		}
		analytic := append([]float64(nil), gv.Data().([]float64)...)
		w := p.Value().Data().([]float64)
		for k := 0; k < len(w) && k < 12; k++ {
			old := w[k]
			w[k] = old + 1e-6
			up := eval()
			w[k] = old - 1e-6
			down := eval()
			w[k] = old
			num := (up - down) / 2e-6
			if math.Abs(num-analytic[k]) > 1e-5*(1+math.Abs(num)) {
				t.Errorf("%s[%d]: analytic %.8g, numeric %.8g", p.Name(), k, analytic[k], num)
			}
		}
	}
}
