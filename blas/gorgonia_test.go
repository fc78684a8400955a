package blas

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// counting is Implementation with a count of the Sgemm calls and of their transpose flags: it
// shows which products a Gorgonia graph sends to Sgemm.
type counting struct {
	Implementation
	calls, transA, transB *atomic.Int64
}

func (c counting) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cm []float32, ldc int) {
	c.calls.Add(1)
	if tA != blas.NoTrans {
		c.transA.Add(1)
	}
	if tB != blas.NoTrans {
		c.transB.Add(1)
	}
	c.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc)
}

// mulGrad builds loss = sum((X·W) ⊙ R) and returns X·W, dX and dW after one run of a tape
// machine, copied out of the machine's memory.
func mulGrad(t *testing.T, x, w, r *tensor.Dense) (y, dx, dw []float32) {
	t.Helper()
	g := G.NewGraph()
	xn := G.NewMatrix(g, tensor.Float32, G.WithShape(x.Shape()...), G.WithValue(x), G.WithName("x"))
	wn := G.NewMatrix(g, tensor.Float32, G.WithShape(w.Shape()...), G.WithValue(w), G.WithName("w"))
	rn := G.NewMatrix(g, tensor.Float32, G.WithShape(r.Shape()...), G.WithValue(r), G.WithName("r"))
	yn := G.Must(G.Mul(xn, wn))
	var yv G.Value
	G.Read(yn, &yv)
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(yn, rn))))
	if _, err := G.Grad(loss, xn, wn); err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	grad := func(n *G.Node) []float32 {
		v, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), v.Data().([]float32)...)
	}
	return append([]float32(nil), yv.Data().([]float32)...), grad(xn), grad(wn)
}

// TestGorgoniaMul checks that after Use a Gorgonia float32 Mul and both gradients (dX = R·Wᵀ,
// dW = Xᵀ·R) run through Implementation.Sgemm, with transposed operands, and agree with gonum.
func TestGorgoniaMul(t *testing.T) {
	old := tensor.WhichBLAS()
	defer G.Use(old)

	Use()
	if _, ok := tensor.WhichBLAS().(Implementation); !ok {
		t.Fatalf("after Use, tensor.WhichBLAS() is %T, want blas.Implementation", tensor.WhichBLAS())
	}

	const m, k, n = 37, 29, 21
	rng := rand.New(rand.NewPCG(9, 10))
	dense := func(r, c int) *tensor.Dense {
		return tensor.New(tensor.WithShape(r, c), tensor.WithBacking(randF32(rng, r*c)))
	}
	x, w, r := dense(m, k), dense(k, n), dense(m, n)

	cnt := counting{calls: new(atomic.Int64), transA: new(atomic.Int64), transB: new(atomic.Int64)}
	G.Use(cnt)
	y, dx, dw := mulGrad(t, x, w, r)
	if cnt.calls.Load() < 3 || cnt.transA.Load() == 0 || cnt.transB.Load() == 0 {
		t.Errorf("Sgemm calls %d (transposed A %d, B %d); want >= 3 with both transposes: forward, dX, dW",
			cnt.calls.Load(), cnt.transA.Load(), cnt.transB.Load())
	}

	t.Logf("Sgemm calls %d: transposed A %d, transposed B %d", cnt.calls.Load(), cnt.transA.Load(), cnt.transB.Load())

	G.Use(gonum.Implementation{})
	y0, dx0, dw0 := mulGrad(t, x, w, r)
	for _, c := range []struct {
		name      string
		got, want []float32
		k         int
	}{{"X·W", y, y0, k}, {"dX", dx, dx0, n}, {"dW", dw, dw0, m}} {
		if len(c.got) != len(c.want) {
			t.Fatalf("%s: %d elements, gonum %d", c.name, len(c.got), len(c.want))
		}
		for i := range c.got {
			if d := math.Abs(float64(c.got[i] - c.want[i])); d > float64(c.k)*1e-6 {
				t.Fatalf("%s[%d] = %v, gonum %v", c.name, i, c.got[i], c.want[i])
			}
		}
	}
}
