package graph

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestNewBatch(t *testing.T) {
	// A path 0-1-2 and an edge 0-1.
	g1, _ := FromEdges(3, []int{0, 1, 1, 2}, []int{1, 0, 2, 1})
	g2, _ := FromEdges(2, []int{0, 1}, []int{1, 0})
	empty, _ := FromEdges(1, nil, nil)
	b, err := NewBatch([]*CSR{g1, empty, g2})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Graph.Validate(); err != nil {
		t.Fatal(err)
	}
	if b.NumGraphs() != 3 || fmt.Sprint(b.Segment) != "[0 0 0 1 2 2]" || fmt.Sprint(b.Ptr) != "[0 3 4 6]" || fmt.Sprint(b.EdgePtr) != "[0 4 4 6]" {
		t.Fatalf("segment %v ptr %v edgeptr %v", b.Segment, b.Ptr, b.EdgePtr)
	}
	// The block-diagonal graph's rows are the graphs' rows, shifted.
	for k, g := range []*CSR{g1, empty, g2} {
		for i := 0; i < g.NumDst; i++ {
			want, _ := g.Row(i)
			got, _ := b.Graph.Row(b.Ptr[k] + i)
			for j := range want {
				if got[j] != want[j]+int32(b.Ptr[k]) {
					t.Fatalf("graph %d row %d: %v, want %v shifted by %d", k, i, got, want, b.Ptr[k])
				}
			}
		}
	}
	// Edge attributes follow their edges.
	a1, _ := g1.WithEdgeAttr([]float32{1, 1, 2, 2, 3, 3, 4, 4}, 2)
	a2, _ := g2.WithEdgeAttr([]float32{5, 5, 6, 6}, 2)
	ab, err := NewBatch([]*CSR{a1, a2})
	if err != nil {
		t.Fatal(err)
	}
	if attr, dim := ab.Graph.EdgeAttr(); dim != 2 || fmt.Sprint(attr) != "[1 1 2 2 3 3 4 4 5 5 6 6]" {
		t.Errorf("batched edge attributes %v (width %d)", attr, dim)
	}
	if _, err := NewBatch([]*CSR{a1, g2}); err == nil {
		t.Error("a mix of graphs with and without edge attributes was accepted")
	}
	w, _ := g1.WithWeights([]float32{1, 2, 3, 4})
	if _, err := NewBatch([]*CSR{w, g2}); err == nil {
		t.Error("a mix of weighted and unweighted graphs was accepted")
	}
	bip, _ := FromBipartiteEdges(2, 1, []int{0}, []int{0})
	if _, err := NewBatch([]*CSR{bip}); err == nil {
		t.Error("a bipartite graph was accepted")
	}
}

func TestLoader(t *testing.T) {
	l := Loader{N: 10, BatchSize: 4}
	bs, err := l.Epoch()
	if err != nil || fmt.Sprint(bs) != "[[0 1 2 3] [4 5 6 7] [8 9]]" {
		t.Fatalf("%v %v", bs, err)
	}
	l.Shuffle, l.Rand = true, rand.New(rand.NewPCG(1, 2))
	a, _ := l.Epoch()
	b, _ := l.Epoch()
	if fmt.Sprint(a) == fmt.Sprint(b) {
		t.Error("two epochs drew the same order")
	}
	var all []int
	for _, x := range a {
		all = append(all, x...)
	}
	slices.Sort(all)
	if fmt.Sprint(all) != "[0 1 2 3 4 5 6 7 8 9]" {
		t.Errorf("an epoch is not a permutation: %v", all)
	}
	items := []int{7, 3, 5}
	c, _ := l.EpochOf(items)
	if len(c) != 1 || len(c[0]) != 3 || fmt.Sprint(items) != "[7 3 5]" {
		t.Errorf("EpochOf: %v, items now %v", c, items)
	}
	if _, err := (Loader{N: 3}).Epoch(); err == nil {
		t.Error("batch size 0 accepted")
	}
	if _, err := (Loader{N: 3, BatchSize: 1, Shuffle: true}).Epoch(); err == nil {
		t.Error("shuffle without a random source accepted")
	}
}
