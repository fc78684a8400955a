package nn

import (
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

func TestParamSharedAcrossNext(t *testing.T) {
	c, _ := NewContext(tensor.Float64, 1)
	p, err := c.Param("eps", tensor.Shape{1}, Constant(0.5))
	if err != nil {
		t.Fatal(err)
	}
	p.Value().(*tensor.Dense).Float64s()[0] = 2 // as a solver step would
	n := c.Next()
	q, err := n.Param("eps", tensor.Shape{1}, Zeros)
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Value().(*tensor.Dense).Float64s()[0]; got != 2 {
		t.Errorf("parameter after Next holds %v, want the shared 2", got)
	}
	if len(n.Params()) != 1 || n.Params()[0] != q {
		t.Errorf("Params after Next = %v, want the one parameter", n.Params())
	}
	for _, bad := range []struct {
		name  string
		shape tensor.Shape
	}{{"", tensor.Shape{1}}, {"w", nil}, {"w", tensor.Shape{2, 0}}} {
		if _, err := c.Param(bad.name, bad.shape, nil); err == nil {
			t.Errorf("Param(%q, %v) accepted", bad.name, bad.shape)
		}
	}
}

func TestInitialisers(t *testing.T) {
	c, _ := NewContext(tensor.Float64, 7)
	mean := func(d []float64) (m, sd float64) {
		for _, v := range d {
			m += v
		}
		m /= float64(len(d))
		for _, v := range d {
			sd += (v - m) * (v - m)
		}
		return m, math.Sqrt(sd / float64(len(d)))
	}
	for name, tc := range map[string]struct {
		init     Init
		lo, hi   float64 // every value within
		mean, sd float64 // approximately
	}{
		"glorot":   {Glorot, -math.Sqrt(6.0 / 300), math.Sqrt(6.0 / 300), 0, math.Sqrt(6.0/300) / math.Sqrt(3)},
		"zeros":    {Zeros, 0, 0, 0, 0},
		"ones":     {Ones, 1, 1, 1, 0},
		"constant": {Constant(-3), -3, -3, -3, 0},
		"uniform":  {Uniform(2, 4), 2, 4, 3, 2 / math.Sqrt(12)},
		"normal":   {Normal(1, 2), math.Inf(-1), math.Inf(1), 1, 2},
	} {
		p, err := c.Param(name, tensor.Shape{100, 200}, tc.init)
		if err != nil {
			t.Fatal(err)
		}
		d := p.Value().(*tensor.Dense).Float64s()
		for _, v := range d {
			if v < tc.lo || v > tc.hi {
				t.Fatalf("%s: value %v outside [%v, %v]", name, v, tc.lo, tc.hi)
			}
		}
		if m, sd := mean(d); math.Abs(m-tc.mean) > 0.05*(1+tc.sd) || math.Abs(sd-tc.sd) > 0.05*tc.sd+1e-12 {
			t.Errorf("%s: mean %v sd %v, want about %v and %v", name, m, sd, tc.mean, tc.sd)
		}
	}
}

func TestSequentialErrors(t *testing.T) {
	c, _ := NewContext(tensor.Float32, 1)
	a, _ := graph.Random(20, 3, 1)
	conv, _ := NewGCNConv(c, "gcn", 4, 3)
	s := Sequential{conv, Func(ReLU), conv}
	if !s.ReadsGraph() || ReadsGraph(Func(ReLU)) {
		t.Error("ReadsGraph wrong")
	}
	blocks := a.FullBlocks(1)
	if _, err := s.ForwardBlocks(blocks, nil); err == nil || !strings.Contains(err.Error(), "2 times, got 1 blocks") {
		t.Errorf("two graph layers over one block: %v", err)
	}
	sf, err := NewSparseFeatures(c, 20, 4, make([]int, 21), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (Sequential{Func(ReLU), conv}).ForwardFeatures(a, sf); err == nil || !strings.Contains(err.Error(), "sparse") {
		t.Errorf("sparse features into ReLU: %v", err)
	}
	drop, _ := NewDropout(c, 0.5)
	out, err := (Sequential{drop, conv, Func(ReLU)}).ForwardFeatures(a, sf)
	if err != nil || out.Shape()[0] != 20 || out.Shape()[1] != 3 {
		t.Errorf("sparse features through dropout and GCN: %v, %v", out, err)
	}
}

func TestGATSlopeDefault(t *testing.T) {
	c, _ := NewContext(tensor.Float32, 1)
	for _, tc := range []struct {
		cfg  GATConfig
		want float64
	}{
		{GATConfig{In: 2, Out: 2, Heads: 1}, 0.2},
		{GATConfig{In: 2, Out: 2, Heads: 1, NegativeSlope: 0.1}, 0.1},
		{GATConfig{In: 2, Out: 2, Heads: 1, ZeroSlope: true}, 0},
	} {
		l, err := NewGATConv(c, "gat", tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if l.Cfg.NegativeSlope != tc.want {
			t.Errorf("config %+v: slope %v, want %v", tc.cfg, l.Cfg.NegativeSlope, tc.want)
		}
	}
	if _, err := NewGATConv(c, "gat", GATConfig{In: 2, Out: 2, Heads: 1, NegativeSlope: math.NaN()}); err == nil {
		t.Error("NaN slope accepted")
	}
}
