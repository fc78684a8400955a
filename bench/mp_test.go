package bench

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMessagePassingRows checks gatv2_forward and gin_forward against plain float64 loops over
// the same graph, features and seeded weights.
func TestMessagePassingRows(t *testing.T) {
	in, err := NewInputs(Config{N: 60, Deg: 3, Hidden: 16})
	if err != nil {
		t.Fatal(err)
	}
	cfg := in.Cfg
	F, Hd := cfg.F, cfg.Hidden
	x := f64(in.X.Float32s())
	a := in.Graph
	for _, op := range []string{"gatv2_forward", "gin_forward"} {
		w, err := Build(in, op)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Run(); err != nil {
			t.Fatal(err)
		}
		got, _, err := w.Output()
		w.Close()
		if err != nil {
			t.Fatal(err)
		}
		var want []float64
		if op == "gatv2_forward" {
			rng := rand.New(rand.NewPCG(cfg.Seed, 7))
			wl := f64(glorotDense(rng, F, Hd).Float32s())
			wr := f64(glorotDense(rng, F, Hd).Float32s())
			att := f64(glorotDense(rng, 1, Hd).Float32s())
			xl, xr := matmul(x, wl, cfg.N, F, Hd), matmul(x, wr, cfg.N, F, Hd)
			H, C := gatv2Heads, Hd/gatv2Heads
			want = make([]float64, cfg.N*Hd)
			for i := 0; i < cfg.N; i++ {
				srcs := []int{i} // the self-loop
				for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
					srcs = append(srcs, int(a.ColIdx[e]))
				}
				for h := 0; h < H; h++ {
					s := make([]float64, len(srcs))
					mx := math.Inf(-1)
					for k, j := range srcs {
						for c := h * C; c < (h+1)*C; c++ {
							z := xl[j*Hd+c] + xr[i*Hd+c]
							if z < 0 {
								z *= 0.2
							}
							s[k] += att[c] * z
						}
						mx = math.Max(mx, s[k])
					}
					den := 0.0
					for k := range s {
						s[k] = math.Exp(s[k] - mx)
						den += s[k]
					}
					for k, j := range srcs {
						for c := h * C; c < (h+1)*C; c++ {
							want[i*Hd+c] += s[k] / den * xl[j*Hd+c]
						}
					}
				}
			}
		} else {
			rng := rand.New(rand.NewPCG(cfg.Seed, 8))
			w1 := f64(glorotDense(rng, F, Hd).Float32s())
			w2 := f64(glorotDense(rng, Hd, Hd).Float32s())
			h := append([]float64(nil), x...)
			for i := 0; i < cfg.N; i++ {
				for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
					for f := 0; f < F; f++ {
						h[i*F+f] += x[int(a.ColIdx[e])*F+f]
					}
				}
			}
			h1 := matmul(h, w1, cfg.N, F, Hd)
			for k, v := range h1 {
				h1[k] = math.Max(v, 0)
			}
			want = matmul(h1, w2, cfg.N, Hd, Hd)
		}
		for k := range want {
			if d := math.Abs(float64(got[k]) - want[k]); d > 1e-4*(1+math.Abs(want[k])) {
				t.Fatalf("%s: element %d = %v, reference %v", op, k, got[k], want[k])
			}
		}
	}
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func matmul(a, b []float64, n, k, m int) []float64 {
	out := make([]float64, n*m)
	for i := 0; i < n; i++ {
		for l := 0; l < k; l++ {
			for j := 0; j < m; j++ {
				out[i*m+j] += a[i*k+l] * b[l*m+j]
			}
		}
	}
	return out
}
