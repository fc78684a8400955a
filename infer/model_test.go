package infer

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/modelfile"
	"github.com/gnnlab/gognn/models"
	"github.com/gnnlab/gognn/nn"
)

// coraSized returns a graph and features of Cora's size: 2708 nodes, 1433 bag-of-words features
// (1.3% ones, rows normalised), about 10,500 symmetric edges with some duplicates, some
// self-loops and ten isolated nodes.
func coraSized(t testing.TB) (*graph.CSR, []float32) {
	const n, f = 2708, 1433
	rng := rand.New(rand.NewPCG(11, 12))
	var src, dst []int
	for len(src) < 10500 {
		i, j := rng.IntN(n-10), rng.IntN(n-10)
		src, dst = append(src, i, j), append(dst, j, i)
	}
	g, err := graph.FromEdges(n, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, n*f)
	for i := 0; i < n; i++ {
		row, ones := x[i*f:(i+1)*f], 0
		for k := range row {
			if rng.Float64() < 0.013 {
				row[k], ones = 1, ones+1
			}
		}
		for k := range row {
			if row[k] != 0 {
				row[k] /= float32(ones)
			}
		}
	}
	return g, x
}

// gorgoniaModel builds arch in Gorgonia with parameters drawn from N(0, scale^2) (biases and
// attention vectors included, so that no term is zero), runs its forward pass in evaluation
// mode and returns the logits and the model file (fp32) of those parameters.
func gorgoniaModel(t testing.TB, arch models.Architecture, g *graph.CSR, x []float32, seed uint64) ([]float32, []byte) {
	c, err := nn.NewContext(tensor.Float32, seed)
	if err != nil {
		t.Fatal(err)
	}
	c.SetTraining(false)
	m, err := models.Build(c, arch)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	values := map[string][]float32{}
	for _, p := range m.Learnables() {
		v := make([]float32, p.Shape().TotalSize())
		scale := 1 / math.Sqrt(float64(p.Shape()[0]))
		if strings.Contains(p.Name(), ".att_") {
			// Logits of order 1, so that the softmax is far from uniform.
			scale *= 30
		}
		for i := range v {
			v[i] = float32(scale * rng.NormFloat64())
		}
		values[p.Name()] = v
	}
	if err := models.Restore(m.Learnables(), values); err != nil {
		t.Fatal(err)
	}
	xt := tensor.New(tensor.WithShape(g.NumDst, arch.In), tensor.WithBacking(append([]float32(nil), x...)))
	out, err := m.Forward(c, g, nn.Dense{X: c.Constant("x", xt)})
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(c.Graph)
	defer vm.Close()
	c.Refresh()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := models.SaveTo(&file, arch, m.Learnables(), modelfile.FP32); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), out.Value().(*tensor.Dense).Float32s()...), file.Bytes()
}

// TestForwardMatchesGorgonia checks every model kind and aggregator on Cora-sized inputs
// against the Gorgonia model that models.Build makes of the same file.
func TestForwardMatchesGorgonia(t *testing.T) {
	g, x := coraSized(t)
	for i, arch := range []models.Architecture{
		{Model: "gcn", In: 1433, Hidden: 16, Classes: 7, Dropout: 0.5},
		{Model: "sage", Aggr: "mean", In: 1433, Hidden: 64, Classes: 7, Dropout: 0.5},
		{Model: "sage", Aggr: "sum", In: 1433, Hidden: 16, Classes: 7},
		{Model: "sage", Aggr: "mean", In: 1433, Hidden: 4, Classes: 7}, // the second layer widens: aggregate first
		{Model: "sage", Aggr: "max", In: 1433, Hidden: 16, Classes: 7},
		{Model: "sage", Aggr: "lstm", In: 1433, Hidden: 16, Classes: 7},
		{Model: "gat", In: 1433, Hidden: 8, Heads: 8, Classes: 7, OutHeads: 1, Dropout: 0.6},
		{Model: "gat", In: 1433, Hidden: 8, Heads: 3, Classes: 7, OutHeads: 2},
	} {
		name := fmt.Sprintf("%s%s-hidden%d-heads%d-%d", arch.Model, arch.Aggr, arch.Hidden, arch.Heads, arch.OutHeads)
		t.Run(name, func(t *testing.T) {
			want, file := gorgoniaModel(t, arch, g, x, uint64(i+1))
			m, err := Load(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Forward(g, x)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d outputs, want %d", len(got), len(want))
			}
			// float32 tolerance: the sums are taken in another order.
			var worst, scale float64
			for k := range want {
				worst = max(worst, math.Abs(float64(got[k]-want[k])))
				scale = max(scale, math.Abs(float64(want[k])))
			}
			if scale == 0 || worst > 1e-5*max(scale, 1) {
				t.Fatalf("largest difference from Gorgonia %.3g (outputs up to %.3g)", worst, scale)
			}
			t.Logf("largest difference from Gorgonia %.3g (outputs up to %.3g)", worst, scale)
		})
	}
}

// TestArchitectureMatchesModels keeps Architecture's JSON fields those of models.Architecture.
func TestArchitectureMatchesModels(t *testing.T) {
	fields := func(v any) []string {
		var out []string
		ty := reflect.TypeOf(v)
		for i := 0; i < ty.NumField(); i++ {
			out = append(out, ty.Field(i).Name+" "+ty.Field(i).Type.String()+" "+ty.Field(i).Tag.Get("json"))
		}
		return out
	}
	if got, want := fields(Architecture{}), fields(models.Architecture{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("infer.Architecture has fields %q, models.Architecture %q", got, want)
	}
}

// tinyFile returns the model file of a small model of arch with Gorgonia's initial parameters.
func tinyFile(t testing.TB, arch models.Architecture) []byte {
	c, err := nn.NewContext(tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.Build(c, arch)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := models.SaveTo(&b, arch, m.Learnables(), modelfile.FP32); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestValidateMatchesModels: Load accepts the architectures models.Build accepts.
func TestValidateMatchesModels(t *testing.T) {
	for _, a := range []models.Architecture{
		{Model: "gcn", In: 1, Hidden: 1, Classes: 1},
		{Model: "gcn", In: 0, Hidden: 1, Classes: 1},
		{Model: "gcn", In: 1, Hidden: 1, Classes: 1, Dropout: 1},
		{Model: "gcn", In: 1, Hidden: 1, Classes: 1, Dropout: -0.1},
		{Model: "mlp", In: 1, Hidden: 1, Classes: 1},
		{Model: "sage", Aggr: "lstm", In: 2, Hidden: 2, Classes: 2},
		{Model: "sage", In: 2, Hidden: 2, Classes: 2},
		{Model: "gat", In: 2, Hidden: 2, Classes: 2, Heads: 1, OutHeads: 1},
		{Model: "gat", In: 2, Hidden: 2, Classes: 2, Heads: 1},
		{Model: "gat", In: 2, Hidden: 0, Classes: 2, Heads: 1, OutHeads: 1},
	} {
		want, got := a.Validate(), Architecture(a).validate()
		if (want == nil) != (got == nil) {
			t.Errorf("%+v: models says %v, infer %v", a, want, got)
		}
	}
}

func TestBadInput(t *testing.T) {
	gcn := models.Architecture{Model: "gcn", In: 4, Hidden: 3, Classes: 2}
	m, err := Load(bytes.NewReader(tinyFile(t, gcn)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := graph.Random(5, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Forward(g, make([]float32, 5*3)); err == nil || !strings.Contains(err.Error(), "want 20") {
		t.Errorf("features of the wrong width: %v", err)
	}
	block := g.FullBlocks(1)[0].Graph
	if bip, err := graph.FromBipartiteEdges(6, 5, []int{5}, []int{0}); err == nil {
		block = bip
	}
	if _, err := m.Forward(block, make([]float32, 5*4)); err == nil || !strings.Contains(err.Error(), "square") {
		t.Errorf("a bipartite graph: %v", err)
	}
	if _, err := Load(bytes.NewReader([]byte("GOGNNMDL"))); err == nil {
		t.Error("a truncated file loaded")
	}

	// A file of another architecture than its tensors: a GCN's tensors under a GAT's header.
	values := map[string][]float32{"gcn1.lin.weight": make([]float32, 12), "gcn1.bias": make([]float32, 3)}
	_, err = New(Architecture{Model: "gcn", In: 4, Hidden: 3, Classes: 2}, values)
	if err == nil || !strings.Contains(err.Error(), "gcn2.lin.weight [3 2] is missing") {
		t.Errorf("missing parameters: %v", err)
	}
	values["gat1.att_src"] = nil
	if _, err = New(Architecture{Model: "gcn", In: 4, Hidden: 3, Classes: 2}, values); err == nil || !strings.Contains(err.Error(), "gat1.att_src is no parameter") {
		t.Errorf("an extra tensor: %v", err)
	}
	if _, err = New(Architecture{Model: "gcn", In: 5, Hidden: 3, Classes: 2}, values); err == nil || !strings.Contains(err.Error(), "12 values") {
		t.Errorf("a parameter of the wrong size: %v", err)
	}
	if _, err = New(Architecture{Model: "sage", Aggr: "median", In: 5, Hidden: 3, Classes: 2}, values); err == nil || !strings.Contains(err.Error(), "median") {
		t.Errorf("an unknown aggregator: %v", err)
	}
}

// FuzzLoad checks that no file makes Load or a loaded model's Forward panic.
func FuzzLoad(f *testing.F) {
	for _, arch := range []models.Architecture{
		{Model: "gcn", In: 4, Hidden: 3, Classes: 2},
		{Model: "sage", Aggr: "lstm", In: 4, Hidden: 3, Classes: 2},
		{Model: "gat", In: 4, Hidden: 2, Heads: 2, Classes: 2, OutHeads: 2},
	} {
		f.Add(tinyFile(f, arch))
	}
	g, err := graph.Random(6, 2, 1)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Load(bytes.NewReader(b))
		if err != nil || m.Arch.In > 64 {
			return
		}
		if _, err := m.Forward(g, make([]float32, g.NumDst*m.Arch.In)); err != nil {
			t.Fatalf("a loaded model's Forward failed: %v", err)
		}
	})
}
