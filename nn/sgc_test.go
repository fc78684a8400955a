package nn

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// denseP returns D^-1/2 (A+I) D^-1/2 of a as a dense matrix, computed from the edge list alone
// (d_i = in-degree + 1): the independent oracle of the propagation layers' tests.
func denseP(a *graph.CSR) [][]float64 {
	n := a.NumDst
	deg := make([]float64, n)
	for i := 0; i < n; i++ {
		deg[i] = float64(a.RowPtr[i+1]-a.RowPtr[i]) + 1
	}
	p := make([][]float64, n)
	for i := range p {
		p[i] = make([]float64, n)
		p[i][i] = 1 / deg[i]
		src, _ := a.Row(i)
		for _, j := range src {
			p[i][j] += 1 / math.Sqrt(deg[i]*deg[int(j)])
		}
	}
	return p
}

// matmul returns x y for row-major x (n, k) and y (k, m).
func matmul(x []float64, n, k int, y []float64, m int) []float64 {
	out := make([]float64, n*m)
	for i := 0; i < n; i++ {
		for l := 0; l < k; l++ {
			for j := 0; j < m; j++ {
				out[i*m+j] += x[i*k+l] * y[l*m+j]
			}
		}
	}
	return out
}

// applyP returns P x for x of shape (n, f).
func applyP(p [][]float64, x []float64, f int) []float64 {
	n := len(p)
	flat := make([]float64, 0, n*n)
	for _, row := range p {
		flat = append(flat, row...)
	}
	return matmul(flat, n, n, x, f)
}

// TestSGCMatchesDenseFormula checks P^K X W + b against the dense computation, for the cached
// path (X a constant input) and the in-graph path (X computed), which must agree.
func TestSGCMatchesDenseFormula(t *testing.T) {
	a := tiny(t)
	for _, k := range []int{1, 2, 3} {
		c, _ := NewContext(tensor.Float64, 5)
		l, err := NewSGC(c, "sgc", 3, 2, k)
		if err != nil {
			t.Fatal(err)
		}
		copy(l.Lin.B.Value().Data().([]float64), []float64{0.5, -0.25})
		xn, x := randomInput(c, 4, 3)
		cached, err := l.Forward(a, xn)
		if err != nil {
			t.Fatal(err)
		}
		computed, err := G.Mul(xn, G.NewConstant(1.0))
		if err != nil {
			t.Fatal(err)
		}
		inGraph, err := l.Forward(a, computed)
		if err != nil {
			t.Fatal(err)
		}
		both := G.Must(G.Concat(0, cached, inGraph))
		got := run(t, c, both)

		p := denseP(a)
		px := x
		for i := 0; i < k; i++ {
			px = applyP(p, px, 3)
		}
		want := matmul(px, 4, 3, values(t, l.Lin.W), 2)
		for i := range want {
			want[i] += []float64{0.5, -0.25}[i%2]
		}
		near(t, "SGC cached", got[:8], want)
		near(t, "SGC in the graph", got[8:], want)
	}
}

func TestSGCCachesThePropagation(t *testing.T) {
	a := tiny(t)
	c, _ := NewContext(tensor.Float64, 5)
	l, err := NewSGC(c, "sgc", 3, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	xn, _ := randomInput(c, 4, 3)
	if _, err := l.Forward(a, xn); err != nil {
		t.Fatal(err)
	}
	first := l.propagated
	if _, err := l.Forward(a, xn); err != nil {
		t.Fatal(err)
	}
	if l.propagated != first {
		t.Error("a second Forward over the same graph and features propagated again")
	}
	// A parameter is not constant: it is propagated in the graph, never cached.
	w := c.param("emb", tensor.Shape{4, 3}, Zeros)
	if l.constant(w) {
		t.Error("a parameter was taken for a constant input")
	}
}

func TestSGCGradients(t *testing.T) {
	a := tiny(t)
	c, _ := NewContext(tensor.Float64, 6)
	// An embedding table as input: the gradient flows through the in-graph propagation too.
	emb := c.param("emb", tensor.Shape{4, 3}, Normal(0, 1))
	l, err := NewSGC(c, "sgc", 3, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.Forward(a, emb)
	if err != nil {
		t.Fatal(err)
	}
	gradCheck(t, c, out, append(l.Learnables(), emb))
}

func TestSGCBadInput(t *testing.T) {
	a := tiny(t)
	c, _ := NewContext(tensor.Float64, 6)
	if _, err := NewSGC(c, "sgc", 3, 2, 0); err == nil {
		t.Error("K = 0 accepted")
	}
	l, _ := NewSGC(c, "sgc", 3, 2, 2)
	if xn, _ := randomInput(c, 4, 5); true {
		if _, err := l.Forward(a, xn); err == nil {
			t.Error("features of the wrong width accepted")
		}
	}
	if xn, _ := randomInput(c, 3, 3); true {
		if _, err := l.Forward(a, xn); err == nil {
			t.Error("features with the wrong number of rows accepted")
		}
	}
}
