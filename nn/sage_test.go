package nn

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestSAGEConvMatchesDirectComputation recomputes each aggregator with plain loops.
func TestSAGEConvMatchesDirectComputation(t *testing.T) {
	a := tiny(t)
	for _, aggr := range []Aggregator{MeanAggr, SumAggr, MaxAggr, LSTMAggr} {
		for _, in := range []int{2, 3, 5} { // narrower than, as wide as and wider than Out: both orders of mean/sum
			c, _ := NewContext(tensor.Float64, 9)
			const out = 3
			l, err := NewSAGEConv(c, "sage", SAGEConfig{In: in, Out: out, Aggr: aggr, Normalize: aggr == MeanAggr})
			if err != nil {
				t.Fatal(err)
			}
			xn, x := randomInput(c, 4, in)
			y, err := l.Forward(a, xn)
			if err != nil {
				t.Fatal(err)
			}
			got := run(t, c, y)
			want := sageReference(t, l, a, x, in, out)
			near(t, string(aggr), got, want)
		}
	}
	c, _ := NewContext(tensor.Float64, 1)
	if _, err := NewSAGEConv(c, "s", SAGEConfig{In: 2, Out: 2, Aggr: "median"}); err == nil {
		t.Error("unknown aggregator accepted")
	}
}

func sageReference(t *testing.T, l *SAGEConv, a interface {
	Row(int) ([]int32, []float32)
}, x []float64, in, out int) []float64 {
	lin := func(v []float64, w []float64, b []float64, k, m int) []float64 {
		r := make([]float64, m)
		for o := 0; o < m; o++ {
			if b != nil {
				r[o] = b[o]
			}
			for j := 0; j < k; j++ {
				r[o] += v[j] * w[j*m+o]
			}
		}
		return r
	}
	wl, bl := values(t, l.LinL.W), values(t, l.LinL.B)
	wr := values(t, l.LinR.W)
	res := make([]float64, 4*out)
	for i := 0; i < 4; i++ {
		src, _ := a.Row(i)
		var agg []float64
		switch l.Cfg.Aggr {
		case MeanAggr, SumAggr:
			agg = make([]float64, in)
			for _, j := range src {
				for f := 0; f < in; f++ {
					agg[f] += x[int(j)*in+f]
				}
			}
			if l.Cfg.Aggr == MeanAggr && len(src) > 0 {
				for f := range agg {
					agg[f] /= float64(len(src))
				}
			}
		case MaxAggr:
			wp, bp := values(t, l.Pool.W), values(t, l.Pool.B)
			agg = make([]float64, out)
			for k, j := range src {
				p := lin(x[int(j)*in:], wp, bp, in, out)
				for f := range p {
					p[f] = math.Max(p[f], 0)
					if k == 0 || p[f] > agg[f] {
						agg[f] = p[f]
					}
				}
			}
		case LSTMAggr:
			wp := values(t, l.Pool.W)
			wx, wh, b := values(t, l.Seq.Wx), values(t, l.Seq.Wh), values(t, l.Seq.B)
			H := out
			h, cell := make([]float64, H), make([]float64, H)
			sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
			for _, j := range src {
				p := lin(x[int(j)*in:], wp, nil, in, H)
				z := lin(p, wx, b, H, 4*H)
				zh := lin(h, wh, nil, H, 4*H)
				for k := range z {
					z[k] += zh[k]
				}
				for k := 0; k < H; k++ {
					cell[k] = sig(z[H+k])*cell[k] + sig(z[k])*math.Tanh(z[2*H+k])
					h[k] = sig(z[3*H+k]) * math.Tanh(cell[k])
				}
			}
			agg = h
		}
		o := lin(agg, wl, bl, len(agg), out)
		r := lin(x[i*in:], wr, nil, in, out)
		norm := 0.0
		for k := range o {
			o[k] += r[k]
			norm += o[k] * o[k]
		}
		if l.Cfg.Normalize {
			for k := range o {
				o[k] /= math.Sqrt(norm)
			}
		}
		copy(res[i*out:], o)
	}
	return res
}

// TestLayerGradients checks, by finite differences, the gradient of sum(out * R) with respect to
// every parameter of each layer, so a wrong backward anywhere in a composed layer is caught.
func TestLayerGradients(t *testing.T) {
	a := tiny(t)
	layers := map[string]func(c *Context) (func(x *G.Node) (*G.Node, error), G.Nodes, error){
		"gcn": func(c *Context) (func(x *G.Node) (*G.Node, error), G.Nodes, error) {
			l, err := NewGCNConv(c, "gcn", 3, 2)
			return func(x *G.Node) (*G.Node, error) { return l.Forward(a, x) }, l.Learnables(), err
		},
		"gat": func(c *Context) (func(x *G.Node) (*G.Node, error), G.Nodes, error) {
			l, err := NewGATConv(c, "gat", GATConfig{In: 3, Out: 2, Heads: 2, Concat: true, NegativeSlope: 0.2})
			return func(x *G.Node) (*G.Node, error) { return l.Forward(a, x) }, l.Learnables(), err
		},
		"sage-lstm": func(c *Context) (func(x *G.Node) (*G.Node, error), G.Nodes, error) {
			l, err := NewSAGEConv(c, "sage", SAGEConfig{In: 3, Out: 2, Aggr: LSTMAggr, Normalize: true})
			return func(x *G.Node) (*G.Node, error) { return l.Forward(a, x) }, l.Learnables(), err
		},
		"sage-max": func(c *Context) (func(x *G.Node) (*G.Node, error), G.Nodes, error) {
			l, err := NewSAGEConv(c, "sage", SAGEConfig{In: 3, Out: 2, Aggr: MaxAggr})
			return func(x *G.Node) (*G.Node, error) { return l.Forward(a, x) }, l.Learnables(), err
		},
		"layernorm-residual": func(c *Context) (func(x *G.Node) (*G.Node, error), G.Nodes, error) {
			conv, err := NewGCNConv(c, "gcn", 3, 2)
			if err != nil {
				return nil, nil, err
			}
			r, err := NewResidual(c, "res", 3, 2, conv)
			if err != nil {
				return nil, nil, err
			}
			ln, err := NewLayerNorm(c, "ln", 2)
			return func(x *G.Node) (*G.Node, error) {
				h, err := r.Forward(a, x)
				if err != nil {
					return nil, err
				}
				return ln.Forward(nil, h)
			}, append(r.Learnables(), ln.Learnables()...), err
		},
	}
	for name, mk := range layers {
		t.Run(name, func(t *testing.T) {
			c, _ := NewContext(tensor.Float64, 2)
			f, params, err := mk(c)
			if err != nil {
				t.Fatal(err)
			}
			xn, _ := randomInput(c, 4, 3)
			out, err := f(xn)
			if err != nil {
				t.Fatal(err)
			}
			gradCheck(t, c, out, params)
		})
	}
}

func TestLayerNormAndResidualValues(t *testing.T) {
	c, _ := NewContext(tensor.Float64, 4)
	ln, err := NewLayerNorm(c, "ln", 3)
	if err != nil {
		t.Fatal(err)
	}
	copy(ln.Gain.Value().Data().([]float64), []float64{1, 2, 0.5})
	copy(ln.Bias.Value().Data().([]float64), []float64{0, 1, -1})
	xn, x := randomInput(c, 2, 3)
	res, err := NewResidual(c, "res", 3, 3, ln)
	if err != nil {
		t.Fatal(err)
	}
	y, err := res.Forward(nil, xn)
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, c, y)
	want := make([]float64, 6)
	gain, bias := []float64{1, 2, 0.5}, []float64{0, 1, -1}
	for i := 0; i < 2; i++ {
		row := x[i*3 : i*3+3]
		mean := (row[0] + row[1] + row[2]) / 3
		v := 0.0
		for _, r := range row {
			v += (r - mean) * (r - mean) / 3
		}
		for f := 0; f < 3; f++ {
			want[i*3+f] = (row[f]-mean)/math.Sqrt(v+1e-5)*gain[f] + bias[f] + row[f]
		}
	}
	near(t, "residual(layernorm)", got, want)
	if got := res.Learnables(); len(got) != 2 || got[0] != ln.Gain || got[1] != ln.Bias {
		t.Errorf("an identity residual around a layer norm has parameters %v, want the norm's two", got)
	}
	if _, err := NewLayerNorm(c, "bad", 0); err == nil {
		t.Error("layer norm over 0 features accepted")
	}
}
