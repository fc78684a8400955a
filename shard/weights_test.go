package shard

import (
	"slices"
	"testing"

	"github.com/gnnlab/gognn/search"
)

// TestWeightChunks: weights split into small chunks come back whole; a newer version replaces
// an unfinished older one; damaged chunks are errors.
func TestWeightChunks(t *testing.T) {
	w := search.Weights{Version: 7, Tensors: [][]float32{{1, 2, 3, 4, 5}, {}, {6, 7, 8}}}
	chunks := weightChunks(w, chunkHeader+8)
	a := newWeightsAssembler(w)
	old := weightChunks(search.Weights{Version: 6, Tensors: w.Tensors}, chunkHeader+8)
	if _, done, err := a.add(old[0]); done || err != nil {
		t.Fatal(done, err)
	}
	for i, c := range chunks {
		got, done, err := a.add(c)
		if err != nil {
			t.Fatal(err)
		}
		if done != (i == len(chunks)-1) {
			t.Fatalf("chunk %d of %d: done %v", i, len(chunks), done)
		}
		if done && (got.Version != 7 || !slices.EqualFunc(got.Tensors, w.Tensors, slices.Equal)) {
			t.Fatalf("assembled %+v, want %+v", got, w)
		}
	}
	if _, _, err := a.add(chunks[0][:chunkHeader+3]); err == nil {
		t.Error("a truncated chunk: no error")
	}
	other := weightChunks(search.Weights{Version: 8, Tensors: [][]float32{{1, 2, 3, 4}, {}, {6, 7, 8}}}, 1<<10)
	if _, _, err := a.add(other[0]); err == nil {
		t.Error("a chunk of a tensor of another size: no error")
	}
}

// FuzzWeightChunks feeds the assembler arbitrary chunks after real ones: no panic, no
// allocation beyond the model's size, and assembled weights always have the model's shape.
func FuzzWeightChunks(f *testing.F) {
	w := search.Weights{Version: 3, Tensors: [][]float32{{1, 2, 3, 4, 5}, {}, {6, 7, 8}}}
	for _, c := range weightChunks(w, chunkHeader+8) {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a := newWeightsAssembler(w)
		for _, c := range append(weightChunks(w, chunkHeader+8)[:2], b) {
			got, done, err := a.add(c)
			if err != nil || !done {
				continue
			}
			for i, x := range got.Tensors {
				if len(x) != len(w.Tensors[i]) {
					t.Fatalf("assembled tensor %d of %d values, the model's has %d", i, len(x), len(w.Tensors[i]))
				}
			}
		}
	})
}
