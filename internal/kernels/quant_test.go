package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFloat16Backends compares the conversions with their references at every length, on every
// backend, with guards around the output (the quant package tests the values exhaustively).
func TestFloat16Backends(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	forEachBackend(t, func(t *testing.T) {
		for _, n := range lengths {
			for _, off := range []int{0, 1} {
				src := randSlice[float32](r, n)
				for i := range src {
					src[i] *= 70000 // some overflow to ±Inf
				}
				buf, h := guarded(n, off, uint16(0x5eed))
				ToFloat16(h, src)
				checkGuards(t, "ToFloat16", buf, guard+off, n, uint16(0x5eed))
				want := make([]uint16, n)
				ToFloat16Ref(want, src)
				for i := range want {
					if h[i] != want[i] {
						t.Fatalf("n=%d: ToFloat16[%d] = %#04x, reference %#04x (from %v)", n, i, h[i], want[i], src[i])
					}
				}
				fbuf, back := guarded(n, off, sentinel[float32]())
				FromFloat16(back, h)
				checkGuards(t, "FromFloat16", fbuf, guard+off, n, sentinel[float32]())
				wantBack := make([]float32, n)
				FromFloat16Ref(wantBack, h)
				for i := range wantBack {
					if math.Float32bits(back[i]) != math.Float32bits(wantBack[i]) {
						t.Fatalf("n=%d: FromFloat16[%d] = %v, reference %v", n, i, back[i], wantBack[i])
					}
				}
			}
		}
	})
}

// TestMatMulInt8Backends compares MatMulInt8 with its reference for shapes around the 4x16 and
// 1x8 tiles, on every backend, with guards around y.
func TestMatMulInt8Backends(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	forEachBackend(t, func(t *testing.T) {
		for _, n := range []int{1, 3, 4, 5, 9} {
			for _, in := range []int{1, 7, 32} {
				for _, out := range []int{1, 8, 15, 16, 17, 40} {
					x := randSlice[float32](r, n*in)
					q := make([]int8, in*out)
					for i := range q {
						q[i] = int8(r.IntN(255) - 127)
					}
					scales := randSlice[float32](r, out)
					buf, y := guarded(n*out, 0, sentinel[float32]())
					MatMulInt8(x, n, in, q, scales, out, y)
					checkGuards(t, "MatMulInt8", buf, guard, n*out, sentinel[float32]())
					want := make([]float32, n*out)
					MatMulInt8Ref(x, in, q, scales, out, want, 0, n, 0, out)
					for i := range want {
						row, c := i/out, i%out
						abs := 0.0 // sum of |terms|, for the rounding bound
						for k := range in {
							abs += math.Abs(float64(x[row*in+k]) * float64(q[k*out+c]))
						}
						abs *= math.Abs(float64(scales[c]))
						if !near(y[i], want[i], abs, in) {
							t.Fatalf("n=%d in=%d out=%d: y[%d] = %v, reference %v", n, in, out, i, y[i], want[i])
						}
					}
				}
			}
		}
	})
}
