package search

import (
	"math"
	"math/rand/v2"
)

// Parameter names, in the order buildModel creates them (and c.Params lists them).
var paramNames = []string{
	"sage_hnsw.lin_l.weight", "sage_hnsw.lin_l.bias", "sage_hnsw.lin_r.weight",
	"sage_fb.lin_l.weight", "sage_fb.lin_l.bias",
	"out.weight",
}

// param is one trained tensor with its Adam moments.
type param struct {
	Name  string
	Shape []int
	Data  []float32 // the nn.Context store's tensor, updated in place
	M, V  []float32
}

// snapshot copies the current parameters into an immutable weights value for serving.
func snapshot(ps []*param, d, h int) *weights {
	cp := func(i int) []float32 { return append([]float32(nil), ps[i].Data...) }
	return &weights{D: d, H: h, HNSW: cp(0), HNSWB: cp(1), Root: cp(2), FB: cp(3), FBB: cp(4), Out: cp(5)}
}

// initParams returns the initial parameters without building the model: the weights drawn
// Glorot-uniform, U(-a, a) with a = sqrt(6 / (fanIn + fanOut)), in creation order from the PCG
// seeded as nn.NewContext seeds it, biases zero, and the output projection zero. It is what
// newParams returns, bit for bit (TestInitParamsAgrees), for the build without Gorgonia.
func initParams(seed uint64, d, h int) []*param {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	glorot := func(data []float32, fanIn, fanOut int) {
		a := math.Sqrt(6 / float64(fanIn+fanOut))
		for i := range data {
			data[i] = float32((rng.Float64()*2 - 1) * a)
		}
	}
	shapes := [][]int{{d, h}, {h}, {d, h}, {d, h}, {h}, {h, d}}
	ps := make([]*param, len(paramNames))
	for i, name := range paramNames {
		n := 1
		for _, x := range shapes[i] {
			n *= x
		}
		ps[i] = &param{Name: name, Shape: shapes[i], Data: make([]float32, n), M: make([]float32, n), V: make([]float32, n)}
		if len(shapes[i]) == 2 {
			glorot(ps[i].Data, shapes[i][0], shapes[i][1])
		}
	}
	clear(ps[5].Data) // out.weight: the embedding starts as the normalised input
	return ps
}
