package nn

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// data returns a float64 node's values.
func data(n *G.Node) []float64 { return n.Value().Data().([]float64) }

// linearRef returns x W + b for row-major x (rows x in), W (in x out), b (out, or nil).
func linearRef(x []float64, rows, in int, w, b []float64, out int) []float64 {
	y := make([]float64, rows*out)
	for r := 0; r < rows; r++ {
		for o := 0; o < out; o++ {
			s := 0.0
			if b != nil {
				s = b[o]
			}
			for k := 0; k < in; k++ {
				s += x[r*in+k] * w[k*out+o]
			}
			y[r*out+o] = s
		}
	}
	return y
}

func TestGATv2MatchesLoops(t *testing.T) {
	for _, tc := range []struct {
		concat, share bool
		edgeDim       int
	}{{true, false, 0}, {false, false, 2}, {true, true, 2}} {
		t.Run(fmt.Sprintf("concat=%v share=%v edge=%d", tc.concat, tc.share, tc.edgeDim), func(t *testing.T) {
			g := attrGraph(t)
			c, _ := NewContext(tensor.Float64, 4)
			const in, C, H = 3, 2, 2
			x, xv := param(t, c, "x", 4, in)
			l, err := NewGATv2Conv(c, "gatv2", GATv2Config{GATConfig: GATConfig{In: in, Out: C, Heads: H, Concat: tc.concat}, ShareWeights: tc.share, EdgeDim: tc.edgeDim})
			if err != nil {
				t.Fatal(err)
			}
			// Non-zero biases, so the reference sees them.
			for _, b := range []*G.Node{l.LinL.B, l.LinR.B, l.Bias} {
				for i := range data(b) {
					data(b)[i] = 0.1 * float64(i+1)
				}
			}
			out, err := l.Forward(g, x)
			if err != nil {
				t.Fatal(err)
			}
			var alpha G.Value
			G.Read(l.Attention(), &alpha)
			got := run(t, c, out)

			loops, _ := g.AddSelfLoops(1)
			attr, _ := loops.EdgeAttr()
			src, dst := edgesOf(loops)
			E := len(src)
			xl := linearRef(xv, 4, in, data(l.LinL.W), data(l.LinL.B), H*C)
			xr := linearRef(xv, 4, in, data(l.LinR.W), data(l.LinR.B), H*C)
			ew := make([]float64, E*H*C)
			if tc.edgeDim > 0 {
				a := make([]float64, len(attr))
				for i, v := range attr {
					a[i] = float64(v)
				}
				ew = linearRef(a, E, tc.edgeDim, data(l.LinEdge.W), nil, H*C)
			}
			att := data(l.Att)
			score := make([]float64, E*H)
			for e := 0; e < E; e++ {
				for h := 0; h < H; h++ {
					for f := 0; f < C; f++ {
						k := h*C + f
						v := xl[src[e]*H*C+k] + xr[dst[e]*H*C+k] + ew[e*H*C+k]
						if v < 0 {
							v *= 0.2
						}
						score[e*H+h] += att[k] * v
					}
				}
			}
			wantAlpha := make([]float64, E*H)
			full := make([]float64, 4*H*C)
			for i := 0; i < 4; i++ {
				for h := 0; h < H; h++ {
					z := 0.0
					for e := loops.RowPtr[i]; e < loops.RowPtr[i+1]; e++ {
						z += math.Exp(score[e*H+h])
					}
					for e := loops.RowPtr[i]; e < loops.RowPtr[i+1]; e++ {
						wantAlpha[e*H+h] = math.Exp(score[e*H+h]) / z
						for f := 0; f < C; f++ {
							full[i*H*C+h*C+f] += wantAlpha[e*H+h] * xl[src[e]*H*C+h*C+f]
						}
					}
				}
			}
			bias := data(l.Bias)
			var want []float64
			for i := 0; i < 4; i++ {
				if tc.concat {
					for k := 0; k < H*C; k++ {
						want = append(want, full[i*H*C+k]+bias[k])
					}
					continue
				}
				for f := 0; f < C; f++ {
					m := 0.0
					for h := 0; h < H; h++ {
						m += full[i*H*C+h*C+f] / H
					}
					want = append(want, m+bias[f])
				}
			}
			near(t, "GATv2 output", got, want)
			near(t, "GATv2 attention", alpha.Data().([]float64), wantAlpha)
			nb, w, err := l.NodeAttention(alpha, 1)
			if err != nil || len(nb) != 3 || len(w[0]) != H {
				t.Errorf("node 1 attends to %v with %v (%v), want 3 neighbours with %d heads", nb, w, err, H)
			}
			gradCheck(t, c, out, append(l.Learnables(), x))
		})
	}
}
