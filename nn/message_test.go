package nn

import (
	"math"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// attrGraph is tiny with a 2-column attribute per edge: 0->1, 2->1, 1->0, 1->2, 0->2 and the
// isolated node 3.
func attrGraph(t *testing.T) *graph.CSR {
	t.Helper()
	g, err := graph.FromEdgesAttr(4, []int{0, 2, 1, 1, 0}, []int{1, 1, 0, 2, 2},
		[]float32{0.5, -1, 1, 2, -0.5, 0.25, 2, 1, -1, -2}, 2)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// param adds a learnable (rows, cols) input drawn from N(0, 1), so gradients reach it, and
// returns it with its values.
func param(t *testing.T, c *Context, name string, shape ...int) (*G.Node, []float64) {
	t.Helper()
	n, err := c.Param(name, shape, Normal(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	return n, n.Value().Data().([]float64)
}

// edgesOf lists the graph's edges as (src, dst) in edge order.
func edgesOf(g *graph.CSR) (src, dst []int) {
	for i := 0; i < g.NumDst; i++ {
		for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
			src, dst = append(src, int(g.ColIdx[e])), append(dst, i)
		}
	}
	return src, dst
}

// reduceRef reduces per-edge rows m (E x f) onto destinations with plain loops.
func reduceRef(g *graph.CSR, m []float64, f int, aggr Aggregator) []float64 {
	out := make([]float64, g.NumDst*f)
	for i := 0; i < g.NumDst; i++ {
		lo, hi := g.RowPtr[i], g.RowPtr[i+1]
		for k := 0; k < f; k++ {
			acc := 0.0
			if aggr == MaxAggr && hi > lo {
				acc = math.Inf(-1)
			}
			for e := lo; e < hi; e++ {
				if aggr == MaxAggr {
					acc = math.Max(acc, m[e*f+k])
				} else {
					acc += m[e*f+k]
				}
			}
			if aggr == MeanAggr && hi > lo {
				acc /= float64(hi - lo)
			}
			out[i*f+k] = acc
		}
	}
	return out
}

// TestMessagePassingLowerings runs each message through its fused path and through the general
// gather-message-scatter path, and compares both with plain loops, values and gradients.
func TestMessagePassingLowerings(t *testing.T) {
	g := attrGraph(t)
	src, _ := edgesOf(g)
	E, F, H := g.NumEdges(), 4, 2
	type build func(c *Context, h, w, s *G.Node) (Aggregator, func(e *Edges) (Message, error))
	cases := map[string]struct {
		build build
		ref   func(h, w, s []float64) []float64
	}{}
	gathered := func(h []float64) []float64 {
		m := make([]float64, E*F)
		for e, j := range src {
			copy(m[e*F:(e+1)*F], h[j*F:(j+1)*F])
		}
		return m
	}
	weighted := func(h, w []float64) []float64 {
		m := gathered(h)
		for e := 0; e < E; e++ {
			for k := 0; k < F; k++ {
				m[e*F+k] *= w[e*H+k/(F/H)]
			}
		}
		return m
	}
	softmax := func(s []float64) []float64 {
		alpha := make([]float64, E*H)
		for i := 0; i < g.NumDst; i++ {
			for hd := 0; hd < H; hd++ {
				z := 0.0
				for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
					z += math.Exp(s[e*H+hd])
				}
				for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
					alpha[e*H+hd] = math.Exp(s[e*H+hd]) / z
				}
			}
		}
		return alpha
	}
	for _, aggr := range []Aggregator{SumAggr, MeanAggr, MaxAggr} {
		aggr := aggr
		cases[string(aggr)+"/src"] = struct {
			build build
			ref   func(h, w, s []float64) []float64
		}{
			func(c *Context, h, w, s *G.Node) (Aggregator, func(e *Edges) (Message, error)) {
				return aggr, func(e *Edges) (Message, error) { return CopySrc(h), nil }
			},
			func(h, w, s []float64) []float64 { return reduceRef(g, gathered(h), F, aggr) },
		}
		cases[string(aggr)+"/value"] = struct {
			build build
			ref   func(h, w, s []float64) []float64
		}{
			func(c *Context, h, w, s *G.Node) (Aggregator, func(e *Edges) (Message, error)) {
				return aggr, func(e *Edges) (Message, error) {
					v, err := e.Src(h)
					return Message{Value: v}, err
				}
			},
			func(h, w, s []float64) []float64 { return reduceRef(g, gathered(h), F, aggr) },
		}
		cases[string(aggr)+"/weighted"] = struct {
			build build
			ref   func(h, w, s []float64) []float64
		}{
			func(c *Context, h, w, s *G.Node) (Aggregator, func(e *Edges) (Message, error)) {
				return aggr, func(e *Edges) (Message, error) { return Message{Src: h, Weight: w}, nil }
			},
			func(h, w, s []float64) []float64 { return reduceRef(g, weighted(h, w), F, aggr) },
		}
	}
	cases["softmax/src"] = struct {
		build build
		ref   func(h, w, s []float64) []float64
	}{
		func(c *Context, h, w, s *G.Node) (Aggregator, func(e *Edges) (Message, error)) {
			return SoftmaxAggr, func(e *Edges) (Message, error) { return Message{Src: h, Score: s}, nil }
		},
		func(h, w, s []float64) []float64 { return reduceRef(g, weighted(h, softmax(s)), F, SumAggr) },
	}
	cases["softmax/value"] = struct {
		build build
		ref   func(h, w, s []float64) []float64
	}{
		func(c *Context, h, w, s *G.Node) (Aggregator, func(e *Edges) (Message, error)) {
			return SoftmaxAggr, func(e *Edges) (Message, error) {
				v, err := e.Src(h)
				return Message{Value: v, Score: s}, err
			}
		},
		func(h, w, s []float64) []float64 { return reduceRef(g, weighted(h, softmax(s)), F, SumAggr) },
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, _ := NewContext(tensor.Float64, 3)
			h, hv := param(t, c, "h", 4, F)
			w, wv := param(t, c, "w", E, H)
			s, sv := param(t, c, "s", E, H)
			aggr, msg := tc.build(c, h, w, s)
			mp, err := NewMessagePassing(c, aggr, msg)
			if err != nil {
				t.Fatal(err)
			}
			out, err := mp.Forward(g, h)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.ref(hv, wv, sv)
			near(t, name, run(t, c, out), want)
			var ps G.Nodes
			for _, p := range c.Params() {
				if strings.Contains(name, "weighted") && p == w || strings.Contains(name, "softmax") && p == s || p == h {
					ps = append(ps, p)
				}
			}
			gradCheck(t, c, out, ps)
		})
	}
}

// TestMessagePassingEdgesAndUpdate checks Dst, Attr, Root and Update on a message that reads all
// three, against loops: m_e = relu(x_j + x_i * e_attr[0]), x'_i = 2 x_i + sum_e m_e.
func TestMessagePassingEdgesAndUpdate(t *testing.T) {
	g := attrGraph(t)
	attr, _ := g.EdgeAttr()
	src, dst := edgesOf(g)
	c, _ := NewContext(tensor.Float64, 5)
	x, xv := param(t, c, "x", 4, 1)
	mp, err := NewMessagePassing(c, SumAggr, func(e *Edges) (Message, error) {
		xj, err := e.Src(e.X)
		if err != nil {
			return Message{}, err
		}
		xi, err := e.Dst(e.X)
		if err != nil {
			return Message{}, err
		}
		a, err := e.Attr()
		if err != nil {
			return Message{}, err
		}
		pick := c.Constant("pick", tensor.New(tensor.WithShape(2, 1), tensor.WithBacking([]float64{1, 0})))
		a0, err := G.Mul(a, pick) // column 0, kept (E, 1)
		if err != nil {
			return Message{}, err
		}
		prod, err := G.HadamardProd(xi, a0)
		if err != nil {
			return Message{}, err
		}
		v, err := ReLU(G.Must(G.Add(xj, prod)))
		return Message{Value: v}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	mp.Update = func(e *Edges, aggr *G.Node) (*G.Node, error) {
		root, err := e.Root(e.X)
		if err != nil {
			return nil, err
		}
		return G.Add(aggr, G.Must(G.Add(root, root)))
	}
	out, err := mp.Forward(g, x)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 4)
	for i := range want {
		want[i] = 2 * xv[i]
	}
	for e := range src {
		want[dst[e]] += math.Max(0, xv[src[e]]+xv[dst[e]]*float64(attr[2*e]))
	}
	near(t, "message over x_j, x_i, e_ji", run(t, c, out), want)
	gradCheck(t, c, out, G.Nodes{x})
}

func TestMessagePassingLSTMAndGraphWeights(t *testing.T) {
	g := attrGraph(t)
	for _, tc := range []struct {
		name string
		msg  func(h *G.Node) func(e *Edges) (Message, error)
	}{
		{"src", func(h *G.Node) func(e *Edges) (Message, error) {
			return func(e *Edges) (Message, error) { return CopySrc(h), nil }
		}},
		{"value", func(h *G.Node) func(e *Edges) (Message, error) {
			return func(e *Edges) (Message, error) { v, err := e.Src(h); return Message{Value: v}, err }
		}},
	} {
		c, _ := NewContext(tensor.Float64, 9)
		h, _ := param(t, c, "h", 4, 3)
		lstm, _ := NewLSTM(c, "lstm", 3, 2)
		mp, _ := NewMessagePassing(c, LSTMAggr, tc.msg(h))
		mp.LSTM = lstm
		out, err := mp.Forward(g, h)
		if err != nil {
			t.Fatal(err)
		}
		got := run(t, c, out)
		c2, _ := NewContext(tensor.Float64, 9)
		h2, _ := param(t, c2, "h", 4, 3)
		lstm2, _ := NewLSTM(c2, "lstm", 3, 2)
		ref, err := lstm2.Forward(g, h2)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "lstm aggregation, "+tc.name, got, run(t, c2, ref))
	}

	// GraphWeights: the normalised graph's weights, fused and general.
	norm, err := g.GCNNorm()
	if err != nil {
		t.Fatal(err)
	}
	src, _ := edgesOf(norm)
	c, _ := NewContext(tensor.Float64, 1)
	h, hv := param(t, c, "h", 4, 2)
	for _, aggr := range []Aggregator{SumAggr, MeanAggr} {
		mp, _ := NewMessagePassing(c, aggr, func(e *Edges) (Message, error) { return Message{Src: h, GraphWeights: true}, nil })
		out, err := mp.Forward(norm, h)
		if err != nil {
			t.Fatal(err)
		}
		m := make([]float64, 2*norm.NumEdges())
		for e, j := range src {
			for k := 0; k < 2; k++ {
				m[e*2+k] = float64(norm.Weights[e]) * hv[j*2+k]
			}
		}
		near(t, "graph weights "+string(aggr), run(t, c, out), reduceRef(norm, m, 2, aggr))
	}
}

func TestMessagePassingErrors(t *testing.T) {
	g := tiny(t)
	c, _ := NewContext(tensor.Float64, 1)
	h, _ := param(t, c, "h", 4, 2)
	score, _ := param(t, c, "s", g.NumEdges())
	for _, tc := range []struct {
		aggr Aggregator
		msg  Message
		want string
	}{
		{SumAggr, Message{}, "exactly one of Src and Value"},
		{SumAggr, Message{Src: h, Score: score}, "Score goes with the softmax"},
		{SoftmaxAggr, Message{Src: h}, "Score goes with the softmax"},
		{SumAggr, Message{Src: h, GraphWeights: true}, "without edge weights"},
		{SumAggr, Message{Value: h}, "message of shape (4, 2) on a graph of 5 edges"},
		{LSTMAggr, Message{Src: h}, "no LSTM"},
	} {
		mp, err := NewMessagePassing(c, tc.aggr, func(e *Edges) (Message, error) { return tc.msg, nil })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mp.Forward(g, h); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %+v: error %v, want %q", tc.aggr, tc.msg, err, tc.want)
		}
	}
	mp, _ := NewMessagePassing(c, SumAggr, func(e *Edges) (Message, error) {
		_, err := e.Attr()
		return Message{}, err
	})
	if _, err := mp.Forward(g, h); err == nil || !strings.Contains(err.Error(), "has none") {
		t.Errorf("attributes of a graph without: %v", err)
	}
	if _, err := NewMessagePassing(c, "median", nil); err == nil {
		t.Error("unknown aggregation accepted")
	}
}
