package nn

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// gcniiLayerWant is one GCNII layer by the paper's formula, in plain Go:
// ((1-alpha) P x + alpha x0) ((1-beta) I + beta W), before the activation.
func gcniiLayerWant(p [][]float64, x, x0, w []float64, dim int, alpha, beta float64) []float64 {
	px := applyP(p, x, dim)
	s := make([]float64, len(px))
	for i := range s {
		s[i] = (1-alpha)*px[i] + alpha*x0[i]
	}
	sw := matmul(s, len(p), dim, w, dim)
	out := make([]float64, len(s))
	for i := range out {
		out[i] = (1-beta)*s[i] + beta*sw[i]
	}
	return out
}

func TestGCNIIBeta(t *testing.T) {
	// Chen et al.: beta_l = log(lambda/l + 1); lambda 0.5 gives log 1.5 at layer 1.
	if got := GCNIIBeta(0.5, 1); math.Abs(got-math.Log(1.5)) > 1e-15 {
		t.Errorf("beta_1 = %v, want log 1.5", got)
	}
	if GCNIIBeta(0.5, 64) >= GCNIIBeta(0.5, 2) {
		t.Error("beta does not decrease with depth")
	}
}

// TestGCNIIMatchesPaperFormula runs a three-layer stack (no dropout) against the layer formula
// applied by hand, relu after each layer, with X0 the stack's input.
func TestGCNIIMatchesPaperFormula(t *testing.T) {
	a := tiny(t)
	const dim, alpha, lambda = 3, 0.1, 0.5
	c, _ := NewContext(tensor.Float64, 7)
	s, err := NewGCNII(c, "gcnii", dim, 3, alpha, lambda, 0)
	if err != nil {
		t.Fatal(err)
	}
	xn, x := randomInput(c, 4, dim)
	out, err := s.Forward(a, xn)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, c, out)

	p := denseP(a)
	h := x
	for l, conv := range s.Convs {
		h = gcniiLayerWant(p, h, x, values(t, conv.W), dim, alpha, GCNIIBeta(lambda, l+1))
		for i := range h {
			h[i] = math.Max(h[i], 0)
		}
	}
	near(t, "GCNII stack", got, h)
}

func TestGCNIIConvNeedsInitial(t *testing.T) {
	a := tiny(t)
	c, _ := NewContext(tensor.Float64, 7)
	conv, err := NewGCNIIConv(c, "conv", 3, 1, 0.1, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	xn, _ := randomInput(c, 4, 3)
	if _, err := conv.Forward(a, xn); err == nil {
		t.Error("a layer without X0 ran")
	}
	conv.Initial, _ = randomInput(c, 4, 2)
	if _, err := conv.Forward(a, xn); err == nil {
		t.Error("an X0 of the wrong width was accepted")
	}
	for _, bad := range []struct {
		dim, l        int
		alpha, lambda float64
	}{{0, 1, 0.1, 0.5}, {3, 0, 0.1, 0.5}, {3, 1, 1, 0.5}, {3, 1, -0.1, 0.5}, {3, 1, 0.1, 0}} {
		if _, err := NewGCNIIConv(c, "bad", bad.dim, bad.l, bad.alpha, bad.lambda); err == nil {
			t.Errorf("NewGCNIIConv%+v accepted", bad)
		}
	}
}

// TestGCNIIGradients checks the gradients of every layer's W and of the input (which reaches
// the output both through the layers and as every layer's X0), with dropout masks active.
func TestGCNIIGradients(t *testing.T) {
	a := tiny(t)
	c, _ := NewContext(tensor.Float64, 8)
	emb := c.param("emb", tensor.Shape{4, 3}, Normal(0, 1))
	s, err := NewGCNII(c, "gcnii", 3, 3, 0.1, 0.5, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Forward(a, emb)
	if err != nil {
		t.Fatal(err)
	}
	gradCheck(t, c, out, append(s.Learnables(), emb))
}
