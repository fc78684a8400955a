package nn

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// tiny is a directed graph on 4 nodes with an isolated node (3): 0->1, 2->1, 1->0, 1->2, 0->2.
func tiny(t *testing.T) *graph.CSR {
	g, err := graph.FromEdges(4, []int{0, 2, 1, 1, 0}, []int{1, 1, 0, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func values(t *testing.T, n *G.Node) []float64 {
	t.Helper()
	d := n.Value().(*tensor.Dense)
	out := make([]float64, d.Len())
	for i := range out {
		out[i] = d.Float64s()[i]
	}
	return out
}

func run(t *testing.T, c *Context, out *G.Node) []float64 {
	t.Helper()
	var v G.Value
	G.Read(out, &v)
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	if err := c.Refresh(); err != nil {
		t.Fatal(err)
	}
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), v.(*tensor.Dense).Float64s()...)
}

func randomInput(c *Context, rows, cols int) (*G.Node, []float64) {
	x := make([]float64, rows*cols)
	for i := range x {
		x[i] = c.Rand().NormFloat64()
	}
	return c.Constant("x", tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(append([]float64(nil), x...)))), x
}

// near compares to 1e-6 relative: graph edge weights (the GCN normalisation) are stored as
// float32 even in a float64 model.
func near(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-6*(1+math.Abs(want[i])) {
			t.Fatalf("%s: element %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// TestGCNConvMatchesDenseFormula checks D^-1/2 (A+I) D^-1/2 X W + b with the normalisation done
// by hand on the dense adjacency matrix.
func TestGCNConvMatchesDenseFormula(t *testing.T) {
	a := tiny(t)
	c, _ := NewContext(tensor.Float64, 3)
	l, err := NewGCNConv(c, "gcn", 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	copy(l.Bias.Value().Data().([]float64), []float64{0.5, -0.25})
	xn, x := randomInput(c, 4, 3)
	out, err := l.Forward(a, xn)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, c, out)

	// Dense A+I with A[i][j] = 1 for an edge j -> i.
	var adj [4][4]float64
	for i := 0; i < 4; i++ {
		adj[i][i] = 1
		src, _ := a.Row(i)
		for _, j := range src {
			adj[i][j]++
		}
	}
	var deg [4]float64
	for i := range adj {
		for j := range adj[i] {
			deg[i] += adj[i][j]
		}
	}
	w, b := values(t, l.Lin.W), values(t, l.Bias)
	want := make([]float64, 8)
	for i := 0; i < 4; i++ {
		for o := 0; o < 2; o++ {
			s := b[o]
			for j := 0; j < 4; j++ {
				xw := 0.0
				for k := 0; k < 3; k++ {
					xw += x[j*3+k] * w[k*2+o]
				}
				s += adj[i][j] / math.Sqrt(deg[i]*deg[j]) * xw
			}
			want[i*2+o] = s
		}
	}
	near(t, "GCNConv", got, want)
}

// TestGATConvMatchesDirectComputation recomputes multi-head attention with plain loops.
func TestGATConvMatchesDirectComputation(t *testing.T) {
	a := tiny(t)
	for _, concat := range []bool{true, false} {
		c, _ := NewContext(tensor.Float64, 5)
		const in, out, heads = 3, 2, 2
		l, err := NewGATConv(c, "gat", GATConfig{In: in, Out: out, Heads: heads, Concat: concat, NegativeSlope: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		xn, x := randomInput(c, 4, in)
		y, err := l.Forward(a, xn)
		if err != nil {
			t.Fatal(err)
		}
		var alphaVal G.Value
		G.Read(l.Attention(), &alphaVal)
		got := run(t, c, y)

		w, as, ad := values(t, l.Lin.W), values(t, l.AttSrc), values(t, l.AttDst)
		h := make([]float64, 4*heads*out)
		for i := 0; i < 4; i++ {
			for o := 0; o < heads*out; o++ {
				for k := 0; k < in; k++ {
					h[i*heads*out+o] += x[i*in+k] * w[k*heads*out+o]
				}
			}
		}
		width := out
		if concat {
			width = heads * out
		}
		want := make([]float64, 4*width)
		for i := 0; i < 4; i++ {
			src, _ := a.Row(i)
			nbrs := append([]int32{int32(i)}, src...) // self-loop added by the layer
			for hd := 0; hd < heads; hd++ {
				logit := func(j int32) float64 {
					s := 0.0
					for f := 0; f < out; f++ {
						s += as[hd*out+f]*h[int(j)*heads*out+hd*out+f] + ad[hd*out+f]*h[i*heads*out+hd*out+f]
					}
					if s < 0 {
						s *= 0.2
					}
					return s
				}
				den := 0.0
				for _, j := range nbrs {
					den += math.Exp(logit(j))
				}
				for _, j := range nbrs {
					alpha := math.Exp(logit(j)) / den
					for f := 0; f < out; f++ {
						v := alpha * h[int(j)*heads*out+hd*out+f]
						if concat {
							want[i*width+hd*out+f] += v
						} else {
							want[i*width+f] += v / heads
						}
					}
				}
			}
		}
		near(t, "GATConv", got, want)

		// The attention read-out: node 3 is isolated, so it attends only to itself.
		src, wts, err := l.NodeAttention(alphaVal, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(src) != 1 || src[0] != 3 || math.Abs(wts[0][0]-1) > 1e-12 || math.Abs(wts[0][1]-1) > 1e-12 {
			t.Errorf("isolated node attention = %v %v, want itself with weight 1", src, wts)
		}
		src, wts, _ = l.NodeAttention(alphaVal, 1)
		for hd := 0; hd < heads; hd++ {
			sum := 0.0
			for k := range src {
				sum += wts[k][hd]
			}
			if math.Abs(sum-1) > 1e-12 {
				t.Errorf("node 1 head %d: attention sums to %v", hd, sum)
			}
		}
		if _, _, err := l.NodeAttention(alphaVal, 9); err == nil {
			t.Error("attention of node 9 in a 4-node graph: no error")
		}
	}
}

func TestDropoutModes(t *testing.T) {
	c, _ := NewContext(tensor.Float64, 1)
	xn, _ := randomInput(c, 100, 50)
	ones := tensor.New(tensor.WithShape(100, 50), tensor.Of(tensor.Float64))
	for i := range ones.Float64s() {
		ones.Float64s()[i] = 1
	}
	G.Let(xn, ones)
	y, err := c.Dropout(xn, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, c, y)
	zeros, mean := 0, 0.0
	for _, v := range got {
		if v == 0 {
			zeros++
		} else if math.Abs(v-1/0.7) > 1e-12 {
			t.Fatalf("kept element scaled to %v, want 1/0.7", v)
		}
		mean += v
	}
	if frac := float64(zeros) / float64(len(got)); frac < 0.27 || frac > 0.33 {
		t.Errorf("dropped fraction %.3f, want about 0.3", frac)
	}
	if mean /= float64(len(got)); math.Abs(mean-1) > 0.05 {
		t.Errorf("mean after inverted dropout %.3f, want about 1", mean)
	}
	c.SetTraining(false)
	for _, v := range run(t, c, y) {
		if v != 1 {
			t.Fatalf("evaluation mode changed a value to %v", v)
		}
	}
	for _, p := range []float64{-0.1, 1, math.NaN()} {
		if _, err := c.Dropout(xn, p); err == nil {
			t.Errorf("dropout p=%v accepted", p)
		}
	}
	if _, err := NewContext(tensor.Int, 1); err == nil {
		t.Error("an int context was accepted")
	}
}
