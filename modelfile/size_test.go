package modelfile

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// The parameters of the framework's Cora models (models.NewGCN(1433, 16, 7) and
// models.NewGAT(1433, 8, 8 heads, 7, 1 output head)), under their names.
var (
	coraGCN = []Tensor{
		{Name: "gcn1.lin.weight", Shape: []int{1433, 16}},
		{Name: "gcn1.bias", Shape: []int{16}},
		{Name: "gcn2.lin.weight", Shape: []int{16, 7}},
		{Name: "gcn2.bias", Shape: []int{7}},
	}
	coraGAT = []Tensor{
		{Name: "gat1.lin.weight", Shape: []int{1433, 64}},
		{Name: "gat1.att_src", Shape: []int{64, 1}},
		{Name: "gat1.att_dst", Shape: []int{64, 1}},
		{Name: "gat1.bias", Shape: []int{64}},
		{Name: "gat2.lin.weight", Shape: []int{64, 7}},
		{Name: "gat2.att_src", Shape: []int{7, 1}},
		{Name: "gat2.att_dst", Shape: []int{7, 1}},
		{Name: "gat2.bias", Shape: []int{7}},
	}
)

func fill(ts []Tensor, seed uint64) []Tensor {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]Tensor, len(ts))
	for i, t := range ts {
		n, _ := numValues(t.Shape)
		t.Data = make([]float32, n)
		for j := range t.Data {
			t.Data[j] = float32(rng.NormFloat64() * 0.1)
		}
		out[i] = t
	}
	return out
}

// TestSizes writes both Cora models in every precision and checks that, apart from the header
// and alignment, fp16 halves and int8 quarters the fp32 size. Run with -v for the table.
func TestSizes(t *testing.T) {
	dir := t.TempDir()
	for _, model := range []struct {
		name    string
		tensors []Tensor
		arch    map[string]any
	}{
		{"GCN", fill(coraGCN, 1), map[string]any{"model": "gcn", "in": 1433, "hidden": 16, "classes": 7}},
		{"GAT", fill(coraGAT, 2), map[string]any{"model": "gat", "in": 1433, "hidden": 8, "heads": 8, "classes": 7, "out_heads": 1}},
	} {
		var values int
		for _, tt := range model.tensors {
			values += len(tt.Data)
		}
		size := map[Precision]int64{}
		data := map[Precision]int64{}
		for _, p := range []Precision{FP32, FP16, INT8} {
			path := filepath.Join(dir, model.name+"-"+string(p)+".gnn")
			if err := Write(path, model.arch, model.tensors, p); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			f, vals, err := Read(path)
			if err != nil {
				t.Fatal(err)
			}
			logErrors(t, model.name, p, f, model.tensors, vals)
			size[p] = st.Size()
			data[p] = st.Size() - f.Tensors[0].Offset
			t.Logf("Cora %s, %d values, %s: %7d bytes (header and padding %d); %.2fx smaller than fp32",
				model.name, values, p, size[p], size[p]-sumLengths(f), float64(size[FP32])/float64(size[p]))
		}
		slack := int64(Align * len(model.tensors))
		if data[FP16] > data[FP32]/2+slack {
			t.Errorf("%s: fp16 data %d bytes, want about half of fp32's %d", model.name, data[FP16], data[FP32])
		}
		// int8 adds one float32 scale per column and keeps vectors in float32.
		if data[INT8] > data[FP32]/4+data[FP32]/50+slack {
			t.Errorf("%s: int8 data %d bytes, want about a quarter of fp32's %d", model.name, data[INT8], data[FP32])
		}
	}
}

func sumLengths(f *File) int64 {
	var n int64
	for _, t := range f.Tensors {
		n += t.Length
	}
	return n
}

// logErrors reports, over the matrices, the largest absolute error, the largest error relative
// to the value (over values above 1e-3; int8 rounds values below half a step to 0, so for it
// this is 1), the root mean square error relative to that of the weights, and for int8 the
// largest error in units of the column's scale (at most 0.5).
func logErrors(t *testing.T, model string, p Precision, f *File, ts []Tensor, vals map[string][]float32) {
	var maxAbs, maxRel, sq, sqw, maxSteps float64
	var n int
	for i, tt := range ts {
		if !isMatrix(tt.Shape) {
			continue
		}
		got := vals[tt.Name]
		cols := tt.Shape[1]
		colMax := make([]float64, cols)
		for j, v := range tt.Data {
			colMax[j%cols] = math.Max(colMax[j%cols], math.Abs(float64(v)))
		}
		for j, v := range tt.Data {
			e := math.Abs(float64(got[j]) - float64(v))
			maxAbs = math.Max(maxAbs, e)
			if math.Abs(float64(v)) > 1e-3 {
				maxRel = math.Max(maxRel, e/math.Abs(float64(v)))
			}
			if f.Tensors[i].DType == Int8 {
				maxSteps = math.Max(maxSteps, e/(colMax[j%cols]/127))
			}
			sq += e * e
			sqw += float64(v) * float64(v)
			n++
		}
	}
	t.Logf("Cora %s %s matrices: max |error| %.3g, max relative error %.3g (|w| > 1e-3), RMS error %.3g = %.3g of the weights' RMS, max error/scale %.3f",
		model, p, maxAbs, maxRel, math.Sqrt(sq/float64(n)), math.Sqrt(sq/sqw), maxSteps)
}
