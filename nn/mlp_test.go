package nn

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

func TestMLPMatchesLoops(t *testing.T) {
	c, _ := NewContext(tensor.Float64, 1)
	x, xv := param(t, c, "x", 4, 3)
	m, err := NewMLP(c, "mlp", MLPConfig{Dims: []int{3, 5, 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Lins {
		for i := range data(l.B) {
			data(l.B)[i] = 0.1 * float64(i)
		}
	}
	y, err := m.Forward(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	h := linearRef(xv, 4, 3, data(m.Lins[0].W), data(m.Lins[0].B), 5)
	for i := range h {
		h[i] = math.Max(h[i], 0)
	}
	near(t, "MLP", run(t, c, y), linearRef(h, 4, 5, data(m.Lins[1].W), data(m.Lins[1].B), 2))
	gradCheck(t, c, y, append(m.Learnables(), x))

	bn, err := NewMLP(c, "mlp_bn", MLPConfig{Dims: []int{3, 4, 4, 1}, BatchNorm: true, Dropout: 0.5, Act: ELU})
	if err != nil {
		t.Fatal(err)
	}
	if len(bn.Norms) != 2 || len(bn.Layers) != 3+2+2+2 || len(bn.Learnables()) != 3*2+2*2 {
		t.Errorf("MLP with batch norm: %d norms, %d layers, %d parameters", len(bn.Norms), len(bn.Layers), len(bn.Learnables()))
	}
	if _, err := NewMLP(c, "bad", MLPConfig{Dims: []int{3}}); err == nil {
		t.Error("an MLP with one width was accepted")
	}
}

func TestDropEdge(t *testing.T) {
	a, err := graph.Random(500, 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	attr := make([]float32, a.NumEdges())
	for e := range attr {
		attr[e] = float32(a.ColIdx[e]) // the source, so alignment can be checked
	}
	if a, err = a.WithEdgeAttr(attr, 1); err != nil {
		t.Fatal(err)
	}
	c, _ := NewContext(tensor.Float32, 1)
	d, err := c.DropEdge(a, 0.3)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	kept := float64(d.NumEdges()) / float64(a.NumEdges())
	if kept < 0.67 || kept > 0.73 {
		t.Errorf("kept %.3f of the edges, want about 0.7", kept)
	}
	got, dim := d.EdgeAttr()
	if dim != 1 || len(got) != d.NumEdges() {
		t.Fatalf("dropped graph has %d attributes of width %d for %d edges", len(got), dim, d.NumEdges())
	}
	for e, v := range got {
		if int32(v) != d.ColIdx[e] {
			t.Fatalf("edge %d from %d carries the attribute of an edge from %v", e, d.ColIdx[e], v)
		}
	}
	again, _ := c.DropEdge(a, 0.3)
	if again.NumEdges() == d.NumEdges() && equalInts(again.ColIdx, d.ColIdx) {
		t.Error("two training runs drew the same graph")
	}
	c2, _ := NewContext(tensor.Float32, 1)
	same, _ := c2.DropEdge(a, 0.3)
	if !equalInts(same.ColIdx, d.ColIdx) {
		t.Error("the same seed drew another graph")
	}
	c.SetTraining(false)
	if e, _ := c.DropEdge(a, 0.3); e != a {
		t.Error("evaluation mode dropped edges")
	}
	if _, err := c.DropEdge(a, 1); err == nil {
		t.Error("p = 1 accepted")
	}
}

func equalInts(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBinaryCrossEntropy(t *testing.T) {
	c, _ := NewContext(tensor.Float64, 1)
	z := c.Constant("z", tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float64{100, -100, 0.5, -2, 0, 3})))
	y := []float64{0, 1, 1, 0, 0.5, 1}
	loss, err := c.BinaryCrossEntropy(z, y)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for i, v := range z.Value().Data().([]float64) {
		p := 1 / (1 + math.Exp(-v))
		term := -y[i]*math.Log(p) - (1-y[i])*math.Log(1-p)
		if math.Abs(v) == 100 {
			term = 100 // log(sigmoid) underflows in float64: the stable form gives |z|
		}
		want += term / 6
	}
	var v G.Value
	G.Read(loss, &v)
	m := G.NewTapeMachine(c.Graph)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	got, _ := Vector(v)
	near(t, "BCE", got, []float64{want})

	c2, _ := NewContext(tensor.Float64, 2)
	w, _ := param(t, c2, "w", 2, 3)
	l2, err := c2.BinaryCrossEntropy(w, []float64{1, 0, 1, 0, 0.3, 1})
	if err != nil {
		t.Fatal(err)
	}
	gradCheck(t, c2, l2, G.Nodes{w})
	if _, err := c2.BinaryCrossEntropy(w, []float64{1, 2, 0, 0, 0, 0}); err == nil {
		t.Error("target 2 accepted")
	}
	if _, err := c2.BinaryCrossEntropy(w, []float64{1}); err == nil {
		t.Error("one target for six logits accepted")
	}
}
