package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestQuantizeInt8Bound checks |q*scale - w| <= scale/2 for every element, exactly (in float64,
// where q*scale is exact) and after DequantizeInt8's float32 rounding (plus half an ulp), over
// matrices with awkward columns.
func TestQuantizeInt8Bound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := [][2]int{{0, 0}, {0, 3}, {3, 0}, {1, 1}, {1, 7}, {7, 1}, {5, 9}, {64, 33}, {1433, 16}}
	for _, sh := range shapes {
		rows, cols := sh[0], sh[1]
		w := make([]float32, rows*cols)
		for i := range w {
			c := i % max(cols, 1)
			switch c % 7 {
			case 0: // Glorot-like
				w[i] = float32(rng.NormFloat64() * 0.05)
			case 1: // all zero
			case 2: // one large outlier per column, the rest small
				w[i] = float32(rng.NormFloat64() * 1e-3)
				if i/cols == rows/2 {
					w[i] = 40
				}
			case 3: // huge magnitudes, up to the largest float32
				w[i] = float32((rng.Float64()*2 - 1) * math.MaxFloat32)
				if i/cols == 0 {
					w[i] = -math.MaxFloat32
				}
			case 4: // below MinInt8Range: flushed to zero
				w[i] = float32(rng.NormFloat64() * 1e-38)
			case 5: // ties: multiples of half a step
				w[i] = float32(rng.IntN(509)-254) * 0.5 * 0.25
			case 6: // subnormal-sized values beside a normal maximum
				w[i] = float32(rng.NormFloat64() * 1e-40)
				if i/cols == 0 {
					w[i] = 1e-30
				}
			}
		}
		q, scales := QuantizeInt8(w, rows, cols)
		if len(q) != len(w) || len(scales) != cols {
			t.Fatalf("%dx%d: got %d codes and %d scales", rows, cols, len(q), len(scales))
		}
		dq := make([]float32, len(w))
		DequantizeInt8(dq, q, scales, rows, cols)
		colMax := make([]float64, cols)
		for i, v := range w {
			colMax[i%cols] = max(colMax[i%cols], math.Abs(float64(v)))
		}
		for i, v := range w {
			r, c := i/cols, i%cols
			s := float64(scales[c])
			if q[i] < -127 {
				t.Fatalf("%dx%d: q[%d,%d] = %d, outside [-127, 127]", rows, cols, r, c, q[i])
			}
			if colMax[c] < MinInt8Range {
				if s != 0 || q[i] != 0 {
					t.Fatalf("%dx%d: column %d below MinInt8Range has scale %g, code %d", rows, cols, c, s, q[i])
				}
				continue
			}
			if e := math.Abs(float64(q[i])*s - float64(v)); e > s/2 {
				t.Fatalf("%dx%d: w[%d,%d] = %g, q = %d, scale %g: error %g > scale/2", rows, cols, r, c, v, q[i], s, e)
			}
			ulp := float64(math.Nextafter32(float32(math.Abs(float64(dq[i]))), math.MaxFloat32)) - math.Abs(float64(dq[i]))
			if e := math.Abs(float64(dq[i]) - float64(v)); e > s/2+ulp/2 || math.IsInf(float64(dq[i]), 0) {
				t.Fatalf("%dx%d: dequant w[%d,%d] = %g, want %g within scale/2 = %g (+ half ulp)", rows, cols, r, c, dq[i], v, s/2)
			}
			if float64(v) == colMax[c] && q[i] != 127 || -float64(v) == colMax[c] && q[i] != -127 {
				t.Fatalf("%dx%d: column %d's extreme %g got code %d, want ±127", rows, cols, c, v, q[i])
			}
		}
	}
}

func TestQuantizeInt8Errors(t *testing.T) {
	mustPanic(t, "NaN", func() { QuantizeInt8([]float32{1, float32(math.NaN())}, 1, 2) })
	mustPanic(t, "Inf", func() { QuantizeInt8([]float32{float32(math.Inf(-1)), 0}, 2, 1) })
	mustPanic(t, "length", func() { QuantizeInt8(make([]float32, 5), 2, 3) })
	mustPanic(t, "negative", func() { QuantizeInt8(nil, -1, 0) })
	mustPanic(t, "overflowing shape", func() { QuantizeInt8(nil, math.MaxInt/2, 3) })
	mustPanic(t, "scales", func() { DequantizeInt8(make([]float32, 6), make([]int8, 6), make([]float32, 2), 2, 3) })
	mustPanic(t, "dst", func() { DequantizeInt8(make([]float32, 5), make([]int8, 6), make([]float32, 3), 2, 3) })
	mustPanic(t, "y", func() {
		MatMulInt8(make([]float32, 4), 2, 2, make([]int8, 6), make([]float32, 3), 3, make([]float32, 5))
	})
	mustPanic(t, "x", func() {
		MatMulInt8(make([]float32, 3), 2, 2, make([]int8, 6), make([]float32, 3), 3, make([]float32, 6))
	})
}

// TestMatMulInt8 compares MatMulInt8 with a float64 product of the dequantised weights at every
// tail shape of the tiled kernels (rows mod 4, columns mod 16 and 8), with sentinels around y to
// catch writes out of bounds.
func TestMatMulInt8(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var shapes [][3]int
	for n := 0; n <= 9; n++ {
		for out := 0; out <= 41; out++ {
			shapes = append(shapes, [3]int{n, 1 + (n+out)%5, out})
		}
	}
	shapes = append(shapes, [3]int{3, 0, 4}, [3]int{7, 33, 17}, [3]int{16, 200, 64}, [3]int{13, 1433, 7})
	const guard = 8
	for _, sh := range shapes {
		n, in, out := sh[0], sh[1], sh[2]
		x := randSlice(rng, n*in, 1)
		w := randSlice(rng, in*out, 0.1)
		q, scales := QuantizeInt8(w, in, out)
		dq := make([]float32, len(w))
		DequantizeInt8(dq, q, scales, in, out)
		buf := randSlice(rng, n*out+2*guard, 1e3) // stale values must be overwritten
		before := append([]float32(nil), buf...)
		y := buf[guard : guard+n*out : guard+n*out]
		MatMulInt8(x, n, in, q, scales, out, y)
		for i := range guard {
			if buf[i] != before[i] || buf[len(buf)-1-i] != before[len(buf)-1-i] {
				t.Fatalf("%dx%dx%d: MatMulInt8 wrote outside y", n, in, out)
			}
		}
		for i := range n {
			for c := range out {
				var want, mag float64
				for k := range in {
					p := float64(x[i*in+k]) * float64(dq[k*out+c])
					want += p
					mag += math.Abs(p)
				}
				// Each of the in additions and the final scaling rounds once.
				if e := math.Abs(float64(y[i*out+c]) - want); e > float64(in+2)*0x1p-24*mag+1e-30 {
					t.Fatalf("%dx%dx%d: y[%d,%d] = %g, want %g (error %g)", n, in, out, i, c, y[i*out+c], want, e)
				}
			}
		}
	}
}

func randSlice(rng *rand.Rand, n int, sd float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64() * sd)
	}
	return s
}

// TestNoAllocs guards the //go:noescape pragmas of the kernels: without them every slice passed
// to assembly escapes to the heap.
func TestNoAllocs(t *testing.T) {
	src := make([]float32, 100)
	h := make([]uint16, 100)
	x, q, s, y := make([]float32, 5*20), make([]int8, 20*24), make([]float32, 24), make([]float32, 5*24)
	for name, f := range map[string]func(){
		"ToFloat16":   func() { ToFloat16(h, src) },
		"FromFloat16": func() { FromFloat16(src, h) },
		"MatMulInt8":  func() { MatMulInt8(x, 5, 20, q, s, 24, y) },
	} {
		if n := testing.AllocsPerRun(10, f); n != 0 {
			t.Errorf("%s allocates %v times per call", name, n)
		}
	}
}
