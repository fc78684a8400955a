package nn

import (
	"testing"

	"gorgonia.org/tensor"
)

// appnpWant is K steps of Z <- (1-alpha) P Z + alpha H in plain Go.
func appnpWant(p [][]float64, h []float64, f, k int, alpha float64) []float64 {
	z := h
	for i := 0; i < k; i++ {
		pz := applyP(p, z, f)
		for j := range pz {
			pz[j] = (1-alpha)*pz[j] + alpha*h[j]
		}
		z = pz
	}
	return z
}

// TestAPPNPMatchesPowerIteration checks the propagation against the power iteration done by
// hand, with and without edge dropout (which evaluation mode turns off).
func TestAPPNPMatchesPowerIteration(t *testing.T) {
	a := tiny(t)
	for _, drop := range []float64{0, 0.5} {
		for _, k := range []int{1, 10} {
			c, _ := NewContext(tensor.Float64, 9)
			c.SetTraining(false)
			l, err := NewAPPNP(c, k, 0.1, drop)
			if err != nil {
				t.Fatal(err)
			}
			hn, h := randomInput(c, 4, 3)
			out, err := l.Forward(a, hn)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "APPNP", run(t, c, out), appnpWant(denseP(a), h, 3, k, 0.1))
		}
	}
}

// TestAPPNPEdgeDropout checks that training mode drops entries of P: each step's P is the
// normalised matrix with its dropped entries zeroed and the others scaled by 1/(1-p).
func TestAPPNPEdgeDropout(t *testing.T) {
	a := tiny(t)
	c, _ := NewContext(tensor.Float64, 10)
	l, err := NewAPPNP(c, 1, 0.2, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	hn, h := randomInput(c, 4, 3)
	out, err := l.Forward(a, hn)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, c, out)
	// The mask of the one step is the last dropout mask of the context.
	mask := c.masks[len(c.masks)-1].(*dropoutMask).value.Float64s()
	norm, _ := a.GCNNorm()
	p := make([][]float64, 4)
	for i := range p {
		p[i] = make([]float64, 4)
		src, w := norm.Row(i)
		for e, j := range src {
			p[i][j] += float64(w[e]) * mask[norm.RowPtr[i]+e]
		}
	}
	kept := 0
	for _, m := range mask {
		if m != 0 {
			kept++
		}
	}
	if kept == 0 || kept == len(mask) {
		t.Fatalf("mask keeps %d of %d entries: pick another seed", kept, len(mask))
	}
	near(t, "APPNP with dropped entries", got, appnpWant(p, h, 3, 1, 0.2))
}

func TestAPPNPGradients(t *testing.T) {
	a := tiny(t)
	for _, drop := range []float64{0, 0.5} {
		c, _ := NewContext(tensor.Float64, 11)
		lin, err := NewLinear(c, "lin", 3, 2, true)
		if err != nil {
			t.Fatal(err)
		}
		xn, _ := randomInput(c, 4, 3)
		h, err := lin.Forward(nil, xn)
		if err != nil {
			t.Fatal(err)
		}
		l, err := NewAPPNP(c, 3, 0.1, drop)
		if err != nil {
			t.Fatal(err)
		}
		out, err := l.Forward(a, h)
		if err != nil {
			t.Fatal(err)
		}
		gradCheck(t, c, out, lin.Learnables())
	}
}

func TestAPPNPBadInput(t *testing.T) {
	a := tiny(t)
	c, _ := NewContext(tensor.Float64, 12)
	for _, bad := range []struct {
		k           int
		alpha, drop float64
	}{{0, 0.1, 0}, {10, -0.1, 0}, {10, 1.5, 0}, {10, 0.1, 1}} {
		if _, err := NewAPPNP(c, bad.k, bad.alpha, bad.drop); err == nil {
			t.Errorf("NewAPPNP%+v accepted", bad)
		}
	}
	l, _ := NewAPPNP(c, 2, 0.1, 0)
	hn, _ := randomInput(c, 3, 2)
	if _, err := l.Forward(a, hn); err == nil {
		t.Error("predictions for 3 nodes accepted on a graph of 4")
	}
}
