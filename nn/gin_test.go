package nn

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

func TestGINAndGINEMatchLoops(t *testing.T) {
	g := attrGraph(t)
	attr, _ := g.EdgeAttr()
	src, dst := edgesOf(g)
	for _, edge := range []bool{false, true} {
		c, _ := NewContext(tensor.Float64, 6)
		const in, out = 3, 2
		x, xv := param(t, c, "x", 4, in)
		h, err := NewLinear(c, "h", in, out, true)
		if err != nil {
			t.Fatal(err)
		}
		cfg := GINConfig{In: in, Eps: 0.3, TrainEps: true, EdgeDim: 2}
		var l *GINConv
		if edge {
			l, err = NewGINEConv(c, "gine", h, cfg)
		} else {
			l, err = NewGINConv(c, "gin", h, cfg)
		}
		if err != nil {
			t.Fatal(err)
		}
		y, err := l.Forward(g, x)
		if err != nil {
			t.Fatal(err)
		}
		got := run(t, c, y)

		agg := make([]float64, 4*in)
		var ew []float64
		if edge {
			ew = linearRef(float64s(attr), len(src), 2, data(l.LinEdge.W), data(l.LinEdge.B), in)
		}
		for e := range src {
			for k := 0; k < in; k++ {
				m := xv[src[e]*in+k]
				if edge {
					m = math.Max(0, m+ew[e*in+k])
				}
				agg[dst[e]*in+k] += m
			}
		}
		for i := range agg {
			agg[i] += 1.3 * xv[i]
		}
		near(t, "GIN", got, linearRef(agg, 4, in, data(h.W), data(h.B), out))
		if ps := l.Learnables(); ps[0] != l.Eps || (edge && len(ps) != 5) || (!edge && len(ps) != 3) {
			t.Errorf("GIN learnables %v", ps)
		}
		gradCheck(t, c, y, append(l.Learnables(), x))
	}
}

func TestGINEpsSharedAcrossNext(t *testing.T) {
	c, _ := NewContext(tensor.Float32, 1)
	h, _ := NewLinear(c, "h", 2, 2, true)
	l, err := NewGINConv(c, "gin", h, GINConfig{In: 2, TrainEps: true})
	if err != nil {
		t.Fatal(err)
	}
	l.Eps.Value().(*tensor.Dense).Float32s()[0] = 0.7
	n := c.Next()
	h2, _ := NewLinear(n, "h", 2, 2, true)
	l2, _ := NewGINConv(n, "gin", h2, GINConfig{In: 2, TrainEps: true})
	if got := l2.Eps.Value().(*tensor.Dense).Float32s()[0]; got != 0.7 {
		t.Errorf("eps after Next is %v, want the shared 0.7", got)
	}
	found := false
	for _, p := range n.Params() {
		found = found || p == l2.Eps
	}
	if !found {
		t.Error("a learnable eps is not among the context's parameters")
	}
	if _, err := NewGINEConv(c, "gine", h, GINConfig{In: 2}); err == nil {
		t.Error("GINE without an edge dimension accepted")
	}
	gine, _ := NewGINEConv(c, "gine", h, GINConfig{In: 2, EdgeDim: 2})
	x := c.Constant("x", tensor.New(tensor.WithShape(4, 2), tensor.Of(tensor.Float32)))
	if _, err := gine.Forward(tiny(t), x); err == nil {
		t.Error("GINE over a graph without edge attributes accepted")
	}
}

// TestGINNarrowingMLPMultipliesFirst: with an MLP whose first layer narrows, GIN multiplies
// before it sums, and computes the same as summing first (loops), with the same gradients.
func TestGINNarrowingMLPMultipliesFirst(t *testing.T) {
	g := attrGraph(t)
	src, dst := edgesOf(g)
	c, _ := NewContext(tensor.Float64, 6)
	const in, mid, out = 3, 2, 2
	x, xv := param(t, c, "x", 4, in)
	h, err := NewMLP(c, "h", MLPConfig{Dims: []int{in, mid, out}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewGINConv(c, "gin", h, GINConfig{In: in, Eps: 0.3, TrainEps: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.first != h.Lins[0] {
		t.Fatal("a narrowing first layer is not multiplied first")
	}
	y, err := l.Forward(g, x)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, c, y)

	agg := make([]float64, 4*in)
	for e := range src {
		for k := 0; k < in; k++ {
			agg[dst[e]*in+k] += xv[src[e]*in+k]
		}
	}
	for i := range agg {
		agg[i] += 1.3 * xv[i]
	}
	hid := linearRef(agg, 4, in, data(h.Lins[0].W), data(h.Lins[0].B), mid)
	for i, v := range hid {
		hid[i] = math.Max(0, v)
	}
	near(t, "GIN, multiplied first", got, linearRef(hid, 4, mid, data(h.Lins[1].W), data(h.Lins[1].B), out))
	gradCheck(t, c, y, append(l.Learnables(), x))

	// A widening first layer sums first.
	c2, _ := NewContext(tensor.Float64, 6)
	h2, _ := NewMLP(c2, "h", MLPConfig{Dims: []int{in, 4, out}})
	if l2, err := NewGINConv(c2, "gin", h2, GINConfig{In: in}); err != nil || l2.first != nil {
		t.Errorf("a widening first layer: multiplied first %v, %v", l2 != nil && l2.first != nil, err)
	}
}
