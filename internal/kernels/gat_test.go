package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gatSoftmaxExact is the softmax of GATSoftmax8F32 in float64 with math.Exp: the oracle for the
// Go reference and the kernels alike.
func gatSoftmaxExact(src, dst []float32, rows []int32, slope float32) []float64 {
	out := make([]float64, 8*len(rows))
	for h := 0; h < 8; h++ {
		m := math.Inf(-1)
		for k, r := range rows {
			v := float64(src[int(r)*8+h] + dst[h])
			if v < 0 {
				v = float64(float32(v) * slope)
			}
			out[8*k+h] = v
			m = math.Max(m, v)
		}
		sum := 0.0
		for k := range rows {
			out[8*k+h] = math.Exp(out[8*k+h] - m)
			sum += out[8*k+h]
		}
		for k := range rows {
			out[8*k+h] /= sum
		}
	}
	return out
}

func TestGATSoftmax8(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		s := sentinel[float32]()
		for _, nrows := range []int{1, 2, 3, 17, 40, 200} {
			for _, scale := range []float64{1, 30} {
				const nsrc = 50
				src := make([]float32, nsrc*8)
				for i := range src {
					src[i] = float32((r.Float64()*2 - 1) * scale)
				}
				dst := randSlice[float32](r, 8)
				rows := make([]int32, nrows)
				for i := range rows {
					rows[i] = int32(r.IntN(nsrc))
				}
				name := fmt.Sprintf("rows=%d scale=%v", nrows, scale)
				buf, y := guarded(8*nrows, 3, s)
				GATSoftmax8F32(y, src, dst, rows, 0.2)
				checkGuards(t, name, buf, guard+3, 8*nrows, s)
				ref := make([]float32, 8*nrows)
				gatSoftmax8Ref(ref, src, dst, rows, 0.2)
				want := gatSoftmaxExact(src, dst, rows, 0.2)
				for i, w := range want {
					// e^x within a few ulp, then a sum of nrows terms and a division.
					tol := 1e-6*w + 1e-7*float64(nrows)*w + 1e-30
					if math.Abs(float64(y[i])-w) > tol || math.Abs(float64(ref[i])-w) > tol {
						t.Fatalf("%s: y[%d] = %v, reference %v, want %v", name, i, y[i], ref[i], w)
					}
				}
			}
		}
	})
}

// TestGATSoftmax8Special checks NaN and infinite logits and underflow: a NaN or a +Inf logit
// makes its head NaN, -Inf logits get weight 0, a head whose logits are far apart puts all its
// weight on the largest.
func TestGATSoftmax8Special(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	forEachBackend(t, func(t *testing.T) {
		src := []float32{
			0, nan, inf, -inf, -inf, 0, -200, 1,
			0, 1, 2, 0, -inf, 3, 0, 1,
			0, 2, 0, 0, -inf, 0, 200, 1,
		}
		dst := make([]float32, 8)
		y := make([]float32, 24)
		GATSoftmax8F32(y, src, dst, []int32{0, 1, 2}, 1)
		for h := 0; h < 8; h++ {
			col := []float32{y[h], y[8+h], y[16+h]}
			switch h {
			case 1, 2: // a NaN, a +Inf logit
				for _, v := range col {
					if v == v {
						t.Fatalf("head %d: %v, want NaN", h, col)
					}
				}
			case 4: // every logit -Inf: 0/0
				for _, v := range col {
					if v == v {
						t.Fatalf("head %d: %v, want NaN", h, col)
					}
				}
			case 3: // one -Inf logit gets 0
				if col[0] != 0 || math.Abs(float64(col[1]+col[2]-1)) > 1e-6 {
					t.Fatalf("head %d: %v", h, col)
				}
			case 6: // -200, 0, 200: underflow to exactly 0 for the others
				if col[0] != 0 || col[1] != 0 || col[2] != 1 {
					t.Fatalf("head %d: %v, want [0 0 1]", h, col)
				}
			default:
				var s float32
				for _, v := range col {
					s += v
				}
				if math.Abs(float64(s-1)) > 1e-6 {
					t.Fatalf("head %d: %v sums to %v", h, col, s)
				}
			}
		}
	})
}

func TestGatherSumHeads8(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		s := sentinel[float32]()
		for _, heads := range []int{1, 2, 3, 7, 8, 9, 16, 21} {
			for _, extra := range []int{0, 5} {
				for _, nrows := range []int{0, 1, 17} {
					width := 8*heads + extra
					const nsrc = 30
					x := randSlice[float32](r, nsrc*width)
					rows := make([]int32, nrows)
					for i := range rows {
						rows[i] = int32(r.IntN(nsrc))
					}
					alpha := randSlice[float32](r, nrows*heads)
					name := fmt.Sprintf("heads=%d width=%d rows=%d", heads, width, nrows)
					buf, y := guarded(8*heads, 1, s)
					GatherSumHeads8F32(y, x, width, rows, alpha, heads)
					checkGuards(t, name, buf, guard+1, 8*heads, s)
					want := make([]float32, 8*heads)
					gatherSumHeads8Ref(want, x, width, rows, alpha, heads)
					for j := range want {
						h, abs := j/8, 0.0
						for k, row := range rows {
							abs += math.Abs(float64(alpha[k*heads+h] * x[int(row)*width+j]))
						}
						if !near(y[j], want[j], abs, nrows) {
							t.Fatalf("%s: y[%d] = %v, want %v", name, j, y[j], want[j])
						}
					}
				}
			}
		}
	})
}

func TestGATKernelsPanic(t *testing.T) {
	x := make([]float32, 64)
	cases := map[string]func(){
		"softmax short dst":    func() { GATSoftmax8F32(make([]float32, 8), x, x[:7], []int32{0}, 0.2) },
		"softmax short y":      func() { GATSoftmax8F32(make([]float32, 15), x, x[:8], []int32{0, 1}, 0.2) },
		"softmax row range":    func() { GATSoftmax8F32(make([]float32, 8), x, x[:8], []int32{8}, 0.2) },
		"softmax negative row": func() { GATSoftmax8F32(make([]float32, 8), x, x[:8], []int32{-1}, 0.2) },
		"heads too wide":       func() { GatherSumHeads8F32(make([]float32, 16), x, 15, []int32{0}, x, 2) },
		"heads short alpha":    func() { GatherSumHeads8F32(make([]float32, 16), x, 16, []int32{0, 1}, x[:3], 2) },
		"heads short y":        func() { GatherSumHeads8F32(make([]float32, 15), x, 16, []int32{0}, x, 2) },
		"heads row range":      func() { GatherSumHeads8F32(make([]float32, 16), x, 16, []int32{4}, x, 2) },
	}
	for name, f := range cases {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
