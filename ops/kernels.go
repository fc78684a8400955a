package ops

import (
	"math"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops/asm"
)

// Float is the element type of the tensors the ops work on.
type Float interface{ float32 | float64 }

// kernelSet binds the asm kernels of one element type, so the generic loops below call them
// without a type switch per row.
type kernelSet[T Float] struct {
	gatherSum func(y, x []T, width int, rows []int32, alpha []T)
	gatherMax func(y []T, arg []int32, x []T, width int, rows []int32, base int32)
	dot       func(x, y []T) T
	axpy      func(alpha T, x, y []T)
	scale     func(alpha T, x []T)
}

var (
	kernels32 = kernelSet[float32]{asm.GatherSumF32, asm.GatherMaxF32, asm.DotF32, asm.AxpyF32, asm.ScaleF32}
	kernels64 = kernelSet[float64]{asm.GatherSumF64, asm.GatherMaxF64, asm.DotF64, asm.AxpyF64, asm.ScaleF64}
)

func kernelsFor[T Float]() *kernelSet[T] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&kernels32).(*kernelSet[T])
	}
	return any(&kernels64).(*kernelSet[T])
}

// spmm computes y = A x for the graph A with edge weights w (nil: unit weights): row i of y is
// sum_e w[e] x[ColIdx[e]] over the in-edges of i. x is NumSrc x width, y NumDst x width, both
// row-major.
func spmm[T Float](a *graph.CSR, w []T, x, y []T, width int) {
	k := kernelsFor[T]()
	forRows(a, width, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e0, e1 := a.RowPtr[i], a.RowPtr[i+1]
			var alpha []T
			if w != nil {
				alpha = w[e0:e1]
			}
			k.gatherSum(y[i*width:(i+1)*width], x, width, a.ColIdx[e0:e1], alpha)
		}
	})
}

// spmmHeads is spmm with one weight per edge and head: x and y rows are heads blocks of
// width/heads features, and block h of row i sums w[e*heads+h] * block h of x[ColIdx[e]].
func spmmHeads[T Float](a *graph.CSR, w []T, heads int, x, y []T, width int) {
	if heads == 1 {
		spmm(a, w, x, y, width)
		return
	}
	f := width / heads
	if x32, ok := any(x).([]float32); ok && f == 8 {
		// GAT's heads of 8 channels: one accumulator vector per head.
		y32, w32 := any(y).([]float32), any(w).([]float32)
		forRows(a, width, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				e0, e1 := a.RowPtr[i], a.RowPtr[i+1]
				asm.GatherSumHeads8F32(y32[i*width:(i+1)*width], x32, width, a.ColIdx[e0:e1], w32[e0*heads:e1*heads], heads)
			}
		})
		return
	}
	k := kernelsFor[T]()
	forRows(a, width, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			yi := y[i*width : (i+1)*width]
			clear(yi)
			for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
				xs := x[int(a.ColIdx[e])*width:][:width]
				we := w[e*heads : (e+1)*heads]
				for h, alpha := range we {
					if f >= 16 {
						k.axpy(alpha, xs[h*f:(h+1)*f], yi[h*f:(h+1)*f])
						continue
					}
					yb, xb := yi[h*f:(h+1)*f], xs[h*f:(h+1)*f]
					for j := range yb {
						yb[j] += alpha * xb[j]
					}
				}
			}
		}
	})
}

// rowMax computes y[i] = elementwise max over the in-neighbours of i and, when arg is not nil,
// the edge that attains it per element (-1 for a node without in-edges, whose row is zero).
// Either output may be nil when only the other is wanted; a row of scratch per worker stands in.
func rowMax[T Float](a *graph.CSR, x, y []T, arg []int32, width int) {
	k := kernelsFor[T]()
	forRows(a, width, func(lo, hi int) {
		var yScratch []T
		var argScratch []int32
		if y == nil {
			yScratch = make([]T, width)
		}
		if arg == nil {
			argScratch = make([]int32, width)
		}
		for i := lo; i < hi; i++ {
			e0, e1 := a.RowPtr[i], a.RowPtr[i+1]
			yr, ar := yScratch, argScratch
			if y != nil {
				yr = y[i*width : (i+1)*width]
			}
			if arg != nil {
				ar = arg[i*width : (i+1)*width]
			}
			k.gatherMax(yr, ar, x, width, a.ColIdx[e0:e1], int32(e0))
		}
	})
}

// edgeDots computes out[e*heads+h] = <block h of dy[dst(e)], block h of x[src(e)]> for every
// edge and head: the gradient of a weighted aggregation with respect to its edge weights.
func edgeDots[T Float](a *graph.CSR, x, dy, out []T, width, heads int) {
	k := kernelsFor[T]()
	f := width / heads
	forRows(a, width, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g := dy[i*width : (i+1)*width]
			for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
				xs := x[int(a.ColIdx[e])*width:][:width]
				for h := 0; h < heads; h++ {
					out[e*heads+h] = k.dot(g[h*f:(h+1)*f], xs[h*f:(h+1)*f])
				}
			}
		}
	})
}

func convert[T Float](w []float32) []T {
	if w == nil {
		return nil
	}
	out := make([]T, len(w))
	for i, v := range w {
		out[i] = T(v)
	}
	return out
}

// expFor is e^x at T's precision: float32 rows take expF32, about 2 ulp of float32 at a third
// of math.Exp's cost, which dominated a 16-class cross-entropy.
func expFor[T Float]() func(float64) float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return func(x float64) float64 { return float64(expF32(float32(x))) }
	}
	return math.Exp
}

// expF32 is e^x in float32 to about 2 ulp: x = k ln2 + r with |r| <= ln2/2 (Cody-Waite), a
// degree-6 polynomial for e^r, and 2^k through the exponent bits. It underflows to 0 below
// -87.3; above 88 it defers to math.Exp; NaN stays NaN.
func expF32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 88:
		return float32(math.Exp(float64(x)))
	case x < -87.33654:
		return 0
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	k := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - k*ln2hi - k*ln2lo
	p := float32(1.0/720)*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	return p * math.Float32frombits(uint32(int32(k)+127)<<23)
}

// permute returns w[idx[t]] for every t.
func permute[T Float](w []T, idx []int32) []T { return permuteRows(w, idx, 1) }

// permuteRows returns the rows of w (each of the given width) in the order idx.
func permuteRows[T Float](w []T, idx []int32, width int) []T {
	out := make([]T, len(idx)*width)
	for t, e := range idx {
		copy(out[t*width:(t+1)*width], w[int(e)*width:(int(e)+1)*width])
	}
	return out
}
