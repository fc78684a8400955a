package quant

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/gnnlab/gognn/ops/asm"
)

func BenchmarkFloat16(b *testing.B) {
	const n = 1 << 16
	rng := rand.New(rand.NewPCG(1, 1))
	src := randSlice(rng, n, 10)
	h := make([]uint16, n)
	back := make([]float32, n)
	b.Run("ToFloat16", func(b *testing.B) {
		b.SetBytes(4 * n)
		for b.Loop() {
			ToFloat16(h, src)
		}
	})
	b.Run("FromFloat16", func(b *testing.B) {
		b.SetBytes(4 * n)
		for b.Loop() {
			FromFloat16(back, h)
		}
	})
	b.Run("ToFloat16Ref", func(b *testing.B) {
		b.SetBytes(4 * n)
		for b.Loop() {
			toFloat16Ref(h, src)
		}
	})
	b.Run("FromFloat16Ref", func(b *testing.B) {
		b.SetBytes(4 * n)
		for b.Loop() {
			fromFloat16Ref(back, h)
		}
	})
}

// BenchmarkMatMul compares y = x·W with W held in INT8 (MatMulInt8, and its pure Go reference)
// against the float32 products of the framework with W dequantised once on load (gonum's Sgemm,
// which Gorgonia's Mul calls, and a row loop over asm.AxpyF32), and with W dequantised again for
// every product (keeping only INT8 in memory). Shapes: the first layers of the Cora GCN and GAT
// over all 2708 nodes, one row, and a large weight.
func BenchmarkMatMul(b *testing.B) {
	for _, sh := range [][3]int{{2708, 1433, 16}, {2708, 1433, 64}, {1, 1433, 64}, {64, 4096, 1024}} {
		n, in, out := sh[0], sh[1], sh[2]
		rng := rand.New(rand.NewPCG(7, 8))
		x := randSlice(rng, n*in, 1)
		w := randSlice(rng, in*out, 0.05)
		q, scales := QuantizeInt8(w, in, out)
		dq := make([]float32, len(w))
		DequantizeInt8(dq, q, scales, in, out)
		y := make([]float32, n*out)
		flops := float64(2 * n * in * out)
		gflops := func(b *testing.B) {
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		impl := gonum.Implementation{}
		name := fmt.Sprintf("%dx%dx%d", n, in, out)
		b.Run(name+"/int8", func(b *testing.B) {
			for b.Loop() {
				MatMulInt8(x, n, in, q, scales, out, y)
			}
			gflops(b)
		})
		b.Run(name+"/int8-reference", func(b *testing.B) {
			for b.Loop() {
				matMulInt8Ref(x, in, q, scales, out, y, 0, n, 0, out)
			}
			gflops(b)
		})
		b.Run(name+"/f32-gonum", func(b *testing.B) {
			for b.Loop() {
				impl.Sgemm(blas.NoTrans, blas.NoTrans, n, out, in, 1, x, in, dq, out, 0, y, out)
			}
			gflops(b)
		})
		b.Run(name+"/f32-axpy", func(b *testing.B) {
			for b.Loop() {
				matMulAxpy(x, n, in, dq, out, y)
			}
			gflops(b)
		})
		b.Run(name+"/dequant-each-time+f32-gonum", func(b *testing.B) {
			for b.Loop() {
				DequantizeInt8(dq, q, scales, in, out)
				impl.Sgemm(blas.NoTrans, blas.NoTrans, n, out, in, 1, x, in, dq, out, 0, y, out)
			}
			gflops(b)
		})
	}
}

func matMulAxpy(x []float32, n, in int, w []float32, out int, y []float32) {
	for i := range n {
		yi := y[i*out : (i+1)*out]
		clear(yi)
		for k, a := range x[i*in : (i+1)*in] {
			asm.AxpyF32(a, w[k*out:(k+1)*out], yi)
		}
	}
}
