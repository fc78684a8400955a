package nn_test

import (
	"testing"

	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/blas"
	"github.com/gnnlab/gognn/nn"
)

// TestBLASOptIn shows that importing nn leaves Gorgonia, tensor and blas32 on gonum's BLAS, and
// that a layer computes with it, until the program calls blas.Use.
func TestBLASOptIn(t *testing.T) {
	if _, ok := G.WhichBLAS().(gonum.Implementation); !ok {
		t.Fatalf("importing nn installed %T as Gorgonia's BLAS; want gonum's until blas.Use", G.WhichBLAS())
	}
	if _, ok := blas32.Implementation().(gonum.Implementation); !ok {
		t.Fatalf("importing nn installed %T as blas32's BLAS; want gonum's until blas.Use", blas32.Implementation())
	}
	c, err := nn.NewContext(tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	const n, in, out = 300, 64, 32
	lin, err := nn.NewLinear(c, "lin", in, out, false)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, n*in)
	for i := range x {
		x[i] = float32(i%7)/3 - 1
	}
	y, err := lin.Apply(nn.Dense{X: c.Constant("x", tensor.New(tensor.WithShape(n, in), tensor.WithBacking(x)))})
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	w := lin.W.Value().Data().([]float32)
	// run checks that the layer's output is, bit for bit, impl's product X·W.
	run := func(impl interface {
		Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	}, when string) {
		t.Helper()
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := y.Value().Data().([]float32)
		want := make([]float32, n*out)
		impl.Sgemm(gblas.NoTrans, gblas.NoTrans, n, out, in, 1, x, in, w, out, 0, want, out)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: y[%d] = %v, %T.Sgemm gives %v", when, i, got[i], impl, want[i])
			}
		}
	}
	run(gonum.Implementation{}, "before blas.Use")

	blas.Use()
	defer func() { G.Use(gonum.Implementation{}); blas32.Use(gonum.Implementation{}) }()
	if _, ok := G.WhichBLAS().(blas.Implementation); !ok {
		t.Fatalf("after blas.Use Gorgonia's BLAS is %T", G.WhichBLAS())
	}
	if _, ok := blas32.Implementation().(blas.Implementation); !ok {
		t.Fatalf("after blas.Use blas32's BLAS is %T", blas32.Implementation())
	}
	run(blas.Implementation{}, "after blas.Use")
}
