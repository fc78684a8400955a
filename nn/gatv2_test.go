package nn

import (
	"fmt"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// data returns a float64 node's values.
func data(n *G.Node) []float64 { return n.Value().Data().([]float64) }

// float64s converts edge attributes.
func float64s(a []float32) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = float64(v)
	}
	return out
}

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
		general       bool
	}{{true, false, 0, false}, {true, false, 0, true}, {false, false, 2, false}, {true, true, 2, false}, {false, true, 0, false}} {
		t.Run(fmt.Sprintf("concat=%v share=%v edge=%d general=%v", tc.concat, tc.share, tc.edgeDim, tc.general), func(t *testing.T) {
			g := attrGraph(t)
			c, _ := NewContext(tensor.Float64, 4)
			const in, C, H = 3, 2, 2
			x, xv := param(t, c, "x", 4, in)
			l, err := NewGATv2Conv(c, "gatv2", GATv2Config{GATConfig: GATConfig{In: in, Out: C, Heads: H, Concat: tc.concat}, ShareWeights: tc.share, EdgeDim: tc.edgeDim, GeneralScores: tc.general})
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
				ew = linearRef(float64s(attr), E, tc.edgeDim, data(l.LinEdge.W), nil, H*C)
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
			wantAlpha := edgeSoftmaxRef(loops, score, H)
			vals := make([]float64, E*H*C)
			for e, j := range src {
				copy(vals[e*H*C:(e+1)*H*C], xl[j*H*C:(j+1)*H*C])
			}
			full := attendRef(loops, wantAlpha, vals, H, C)
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

// The fused score op and its gradients give the same bits for any number of goroutines.
func TestGATv2ScoresWorkerCounts(t *testing.T) {
	a, err := graph.Random(3000, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	results := func() [][]float32 {
		c, _ := NewContext(tensor.Float32, 1)
		xl, _ := c.Param("xl", tensor.Shape{3000, 64}, Normal(0, 1))
		xr, _ := c.Param("xr", tensor.Shape{3000, 64}, Normal(0, 1))
		att, _ := c.Param("att", tensor.Shape{64, 1}, Normal(0, 1))
		s, err := gatv2Scores(a, xl, xr, att, 8, 0.2)
		if err != nil {
			t.Fatal(err)
		}
		loss := G.Must(G.Sum(G.Must(G.Square(s))))
		if _, err := G.Grad(loss, xl, xr, att); err != nil {
			t.Fatal(err)
		}
		m := G.NewTapeMachine(c.Graph)
		defer m.Close()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		out = append(out, append([]float32(nil), s.Value().Data().([]float32)...))
		for _, p := range []*G.Node{xl, xr, att} {
			g, _ := p.Grad()
			out = append(out, append([]float32(nil), g.Data().([]float32)...))
		}
		return out
	}
	prev := runtime.GOMAXPROCS(1)
	one := results()
	runtime.GOMAXPROCS(4)
	four := results()
	runtime.GOMAXPROCS(prev)
	for k := range one {
		for i := range one[k] {
			if one[k][i] != four[k][i] {
				t.Fatalf("output %d element %d: %v with 1 goroutine, %v with 4", k, i, one[k][i], four[k][i])
			}
		}
	}
}
