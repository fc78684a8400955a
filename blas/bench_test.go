package blas

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The shapes of a dense layer over 100,000 nodes with 128 input and 64 output features:
// forward X·W, and the backward products Xᵀ·G (weight gradient) and G·Wᵀ (input gradient) as
// Gorgonia issues them; and a square product for reference.
var benchShapes = []struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}{
	{"XW_100000x128x64", blas.NoTrans, blas.NoTrans, 100_000, 64, 128},
	{"XtG_128x100000x64", blas.Trans, blas.NoTrans, 128, 64, 100_000},
	{"GWt_100000x64x128", blas.NoTrans, blas.Trans, 100_000, 128, 64},
	{"square_512", blas.NoTrans, blas.NoTrans, 512, 512, 512},
}

// BenchmarkSgemm times Implementation.Sgemm and gonum's on each shape (named m×k×n: op(A) is
// m×k, op(B) k×n) and reports GFLOP/s = 2mnk/time; where the CPU time is known also GFLOP per
// CPU-second and its share of PeakGFLOPS (%peak/cpu), the fraction of one core's peak used
// while running.
func BenchmarkSgemm(b *testing.B) {
	peak, how := PeakGFLOPS()
	b.Logf("peak %.1f GFLOP/s per core: %s", peak, how)
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range benchShapes {
		lda, ldb := s.k, s.n
		if s.tA != blas.NoTrans {
			lda = s.m
		}
		if s.tB != blas.NoTrans {
			ldb = s.k
		}
		a, bm, c := randF32(r, s.m*s.k), randF32(r, s.k*s.n), make([]float32, s.m*s.n)
		for _, impl := range []struct {
			name string
			blas.Float32
		}{{"ours", Implementation{}}, {"gonum", gonum.Implementation{}}} {
			b.Run(fmt.Sprintf("%s/%s", s.name, impl.name), func(b *testing.B) {
				cpu0 := cpuTime()
				for b.Loop() {
					impl.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu := cpuTime() - cpu0; cpu > 0 {
					b.ReportMetric(flops/cpu.Seconds()/1e9, "GFLOP/cpu-s")
					if peak > 0 {
						b.ReportMetric(100*flops/cpu.Seconds()/1e9/peak, "%peak/cpu")
					}
				}
			})
		}
	}
}

// BenchmarkGorgoniaDense runs forward and backward of loss = sum((X·W) ⊙ R) for X 20000×128,
// W 128×64 through a Gorgonia tape machine, with gonum's BLAS and with this package's: the
// three products (X·W, Xᵀ·G, G·Wᵀ) are most of the work of a dense layer.
func BenchmarkGorgoniaDense(b *testing.B) {
	const n, in, out = 20_000, 128, 64
	r := rand.New(rand.NewPCG(2, 2))
	dense := func(rows, cols int) *tensor.Dense {
		return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(randF32(r, rows*cols)))
	}
	x, w, rr := dense(n, in), dense(in, out), dense(n, out)
	old := tensor.WhichBLAS()
	defer G.Use(old)
	for _, impl := range []struct {
		name string
		G.BLAS
	}{{"ours", Implementation{}}, {"gonum", gonum.Implementation{}}} {
		b.Run(impl.name, func(b *testing.B) {
			G.Use(impl.BLAS)
			g := G.NewGraph()
			xn := G.NewMatrix(g, tensor.Float32, G.WithShape(n, in), G.WithValue(x), G.WithName("x"))
			wn := G.NewMatrix(g, tensor.Float32, G.WithShape(in, out), G.WithValue(w), G.WithName("w"))
			rn := G.NewMatrix(g, tensor.Float32, G.WithShape(n, out), G.WithValue(rr), G.WithName("r"))
			loss := G.Must(G.Sum(G.Must(G.HadamardProd(G.Must(G.Mul(xn, wn)), rn))))
			if _, err := G.Grad(loss, xn, wn); err != nil {
				b.Fatal(err)
			}
			m := G.NewTapeMachine(g)
			defer m.Close()
			for b.Loop() {
				if err := m.RunAll(); err != nil {
					b.Fatal(err)
				}
				m.Reset()
			}
			b.ReportMetric(3*2*n*in*out*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
