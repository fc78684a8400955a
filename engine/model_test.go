package engine

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/infer"
	"github.com/gnnlab/gognn/modelfile"
)

// TestEmbed loads a GraphSAGE model file through the protocol and checks that embed returns
// infer's forward pass over the CSR arrays it was given; it needs no training stack, so it runs
// in the serving build (tag gognn_serve) too.
func TestEmbed(t *testing.T) {
	const nodes, in, hidden, classes = 30, 5, 4, 3
	arch := infer.Architecture{Model: "sage", Aggr: "mean", In: in, Hidden: hidden, Classes: classes}
	tensors := []modelfile.Tensor{
		{Name: "sage1.lin_l.weight", Shape: []int{in, hidden}}, {Name: "sage1.lin_l.bias", Shape: []int{hidden}},
		{Name: "sage1.lin_r.weight", Shape: []int{in, hidden}},
		{Name: "sage2.lin_l.weight", Shape: []int{hidden, classes}}, {Name: "sage2.lin_l.bias", Shape: []int{classes}},
		{Name: "sage2.lin_r.weight", Shape: []int{hidden, classes}},
	}
	values := map[string][]float32{}
	for i, tn := range tensors {
		size := 1
		for _, d := range tn.Shape {
			size *= d
		}
		tensors[i].Data = randomVectors(size, 1, uint64(i+1))
		values[tn.Name] = tensors[i].Data
	}
	var file bytes.Buffer
	if err := modelfile.WriteTo(&file, arch, tensors, modelfile.FP32); err != nil {
		t.Fatal(err)
	}
	g, err := graph.Random(nodes, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	x := randomVectors(nodes, in, 9)
	m, err := infer.New(arch, values)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Forward(g, x)
	if err != nil {
		t.Fatal(err)
	}

	e := New()
	h := binary.LittleEndian.Uint32(ok(t, e, req(OpLoadModel, file.Bytes())))
	rowPtr := make([]int32, nodes+1)
	for i, p := range g.RowPtr {
		rowPtr[i] = int32(p)
	}
	resp := ok(t, e, req(OpEmbed, h, nodes, len(g.ColIdx), in, rowPtr, g.ColIdx, x))
	if rows, cols := binary.LittleEndian.Uint32(resp), binary.LittleEndian.Uint32(resp[4:]); rows != nodes || cols != classes {
		t.Fatalf("embed returned %d x %d, want %d x %d", rows, cols, nodes, classes)
	}
	for i, w := range want {
		if got := math.Float32frombits(binary.LittleEndian.Uint32(resp[8+4*i:])); got != w {
			t.Fatalf("output %d is %v, infer gives %v", i, got, w)
		}
	}
	fails(t, e, req(OpEmbed, h, 1, 0, in+1, []int32{0, 0}, make([]float32, in+1)), "features per node, the model takes 5")
	fails(t, e, req(OpEmbed, h, 2, 1, in, []int32{0, 0, 2}, []int32{0}, make([]float32, 2*in)), "rowPtr")
	fails(t, e, req(OpSearch, h, 1, 10, 0, 4, []float32{1, 2, 3, 4}), "is a model, not an index")
	fails(t, e, req(OpLoadModel, file.Bytes()[:file.Len()-3]), "loadModel")
}
