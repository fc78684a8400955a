package nn

import (
	"fmt"
	"math"
	"testing"

	"gorgonia.org/tensor"
)

func TestTransformerConvMatchesLoops(t *testing.T) {
	for _, tc := range []struct {
		concat, beta bool
		edgeDim      int
	}{{true, false, 0}, {false, true, 2}, {true, true, 2}} {
		t.Run(fmt.Sprintf("concat=%v beta=%v edge=%d", tc.concat, tc.beta, tc.edgeDim), func(t *testing.T) {
			g := attrGraph(t)
			attr, _ := g.EdgeAttr()
			src, dst := edgesOf(g)
			E := len(src)
			c, _ := NewContext(tensor.Float64, 8)
			const in, C, H = 3, 2, 2
			x, xv := param(t, c, "x", 4, in)
			l, err := NewTransformerConv(c, "tf", TransformerConfig{In: in, Out: C, Heads: H, Concat: tc.concat, Beta: tc.beta, EdgeDim: tc.edgeDim})
			if err != nil {
				t.Fatal(err)
			}
			y, err := l.Forward(g, x)
			if err != nil {
				t.Fatal(err)
			}
			got := run(t, c, y)

			q := linearRef(xv, 4, in, data(l.LinQ.W), data(l.LinQ.B), H*C)
			k := linearRef(xv, 4, in, data(l.LinK.W), data(l.LinK.B), H*C)
			v := linearRef(xv, 4, in, data(l.LinV.W), data(l.LinV.B), H*C)
			ew := make([]float64, E*H*C)
			if tc.edgeDim > 0 {
				a := make([]float64, len(attr))
				for i, x := range attr {
					a[i] = float64(x)
				}
				ew = linearRef(a, E, 2, data(l.LinE.W), nil, H*C)
			}
			score := make([]float64, E*H)
			for e := 0; e < E; e++ {
				for h := 0; h < H; h++ {
					for f := 0; f < C; f++ {
						j := h*C + f
						score[e*H+h] += q[dst[e]*H*C+j] * (k[src[e]*H*C+j] + ew[e*H*C+j]) / math.Sqrt(C)
					}
				}
			}
			full := make([]float64, 4*H*C)
			for i := 0; i < 4; i++ {
				for h := 0; h < H; h++ {
					z := 0.0
					for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
						z += math.Exp(score[e*H+h])
					}
					for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
						alpha := math.Exp(score[e*H+h]) / z
						for f := 0; f < C; f++ {
							full[i*H*C+h*C+f] += alpha * (v[src[e]*H*C+h*C+f] + ew[e*H*C+h*C+f])
						}
					}
				}
			}
			width := C
			if tc.concat {
				width = H * C
			}
			m := make([]float64, 4*width)
			for i := 0; i < 4; i++ {
				for j := 0; j < width; j++ {
					if tc.concat {
						m[i*width+j] = full[i*H*C+j]
						continue
					}
					for h := 0; h < H; h++ {
						m[i*width+j] += full[i*H*C+h*C+j] / H
					}
				}
			}
			root := linearRef(xv, 4, in, data(l.LinR.W), data(l.LinR.B), width)
			want := make([]float64, 4*width)
			for i := 0; i < 4; i++ {
				beta := 0.0
				if tc.beta {
					w := data(l.BetaW)
					s := 0.0
					for j := 0; j < width; j++ {
						r, o := root[i*width+j], m[i*width+j]
						s += w[j]*r + w[width+j]*o + w[2*width+j]*(r-o)
					}
					beta = 1 / (1 + math.Exp(-s))
				}
				for j := 0; j < width; j++ {
					r, o := root[i*width+j], m[i*width+j]
					if tc.beta {
						want[i*width+j] = beta*r + (1-beta)*o
					} else {
						want[i*width+j] = r + o
					}
				}
			}
			near(t, "TransformerConv", got, want)
			gradCheck(t, c, y, append(l.Learnables(), x))
		})
	}
}
