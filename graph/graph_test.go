package graph

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestFromEdgesSortsByDestination(t *testing.T) {
	// 0->1, 2->1, 1->0, 2->0, 0->1 (duplicate)
	g, err := FromEdges(3, []int{0, 2, 1, 2, 0}, []int{1, 1, 0, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 2, 5, 5}; !reflect.DeepEqual(g.RowPtr, want) {
		t.Errorf("RowPtr = %v, want %v", g.RowPtr, want)
	}
	if want := []int32{1, 2, 0, 0, 2}; !reflect.DeepEqual(g.ColIdx, want) {
		t.Errorf("ColIdx = %v, want %v", g.ColIdx, want)
	}
	if err := g.Validate(); err != nil {
		t.Error(err)
	}
	c := g.Coalesce()
	if want := []int32{1, 2, 0, 2}; !reflect.DeepEqual(c.ColIdx, want) {
		t.Errorf("coalesced ColIdx = %v, want %v", c.ColIdx, want)
	}
	if got, want := g.InDegrees(), []int{2, 3, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("InDegrees = %v, want %v", got, want)
	}
	if got, want := g.OutDegrees(), []int{2, 1, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("OutDegrees = %v, want %v", got, want)
	}
	if got, want := g.Dst(), []int32{0, 0, 1, 1, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("Dst = %v, want %v", got, want)
	}
}

func TestBadInputNamesTheCulprit(t *testing.T) {
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"source out of range", func() error { _, err := FromEdges(3, []int{0, 5}, []int{1, 1}); return err }, "edge 1 (5 -> 1): source node 5"},
		{"negative destination", func() error { _, err := FromEdges(3, []int{0}, []int{-1}); return err }, "destination node -1"},
		{"length mismatch", func() error { _, err := FromEdges(3, []int{0}, []int{1, 2}); return err }, "1 edge sources but 2"},
		{"adjacency", func() error { _, err := FromAdjacency([][]int{{1}, {7}}); return err }, "node 1 lists neighbour 7"},
		{"weights count", func() error {
			g, _ := FromEdges(2, []int{0}, []int{1})
			_, err := g.WithWeights([]float32{1, 2})
			return err
		}, "2 weights for 1 edges"},
		{"NaN weight", func() error {
			g, _ := FromEdges(2, []int{0}, []int{1})
			_, err := g.WithWeights([]float32{float32(math.NaN())})
			return err
		}, "weight of edge 0 is NaN"},
		{"random degree", func() error { _, err := Random(3, 3, 1); return err }, "in-degree 3 on 3 nodes"},
		{"bipartite self-loops", func() error {
			g, _ := FromBipartiteEdges(3, 2, []int{2}, []int{1})
			_, err := g.AddSelfLoops(1)
			return err
		}, "square graph"},
	}
	for _, c := range cases {
		err := c.err()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestValidateCatchesHandBuiltErrors(t *testing.T) {
	bad := []*CSR{
		{NumSrc: 2, NumDst: 2, RowPtr: []int{0, 1}, ColIdx: []int32{0}},
		{NumSrc: 2, NumDst: 2, RowPtr: []int{0, 1, 1}, ColIdx: []int32{2}},
		{NumSrc: 2, NumDst: 2, RowPtr: []int{0, 2, 1}, ColIdx: []int32{0}},
		{NumSrc: 2, NumDst: 1, RowPtr: []int{0, 2}, ColIdx: []int32{1, 0}},
		{NumSrc: 2, NumDst: 1, RowPtr: []int{0, 1}, ColIdx: []int32{1}, Weights: []float32{float32(math.Inf(1))}},
	}
	for k, g := range bad {
		if err := g.Validate(); err == nil {
			t.Errorf("case %d: Validate accepted %v", k, g)
		}
	}
}

func TestGCNNormMatchesDense(t *testing.T) {
	// Undirected path 0-1-2 plus an isolated node 3.
	g, err := FromEdges(4, []int{0, 1, 1, 2}, []int{1, 0, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	a, err := g.GCNNorm()
	if err != nil {
		t.Fatal(err)
	}
	deg := []float64{2, 3, 2, 1} // with self-loops
	adj := [4][4]float64{{1, 1, 0, 0}, {1, 1, 1, 0}, {0, 1, 1, 0}, {0, 0, 0, 1}}
	for i := 0; i < 4; i++ {
		src, w := a.Row(i)
		got := map[int32]float32{}
		for k, s := range src {
			got[s] = w[k]
		}
		for j := 0; j < 4; j++ {
			want := adj[i][j] / math.Sqrt(deg[i]*deg[j])
			if math.Abs(float64(got[int32(j)])-want) > 1e-7 {
				t.Errorf("norm[%d][%d] = %v, want %v", i, j, got[int32(j)], want)
			}
		}
	}
	if err := a.Validate(); err != nil {
		t.Error(err)
	}
	// A graph that already has a self-loop keeps exactly one.
	l, _ := FromEdges(2, []int{0, 1}, []int{0, 0})
	s, _ := l.AddSelfLoops(1)
	if want := []int32{0, 1, 1}; !reflect.DeepEqual(s.ColIdx, want) {
		t.Errorf("self-looped ColIdx = %v, want %v", s.ColIdx, want)
	}
}

func TestTransposeRoundTrip(t *testing.T) {
	g, err := Random(50, 4, 7)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, g.NumEdges())
	for e := range w {
		w[e] = float32(e)
	}
	g, _ = g.WithWeights(w)
	tr := g.Transpose()
	if err := tr.Graph.Validate(); err != nil {
		t.Fatal(err)
	}
	if tr != g.Transpose() {
		t.Error("Transpose is not cached")
	}
	dst := g.Dst()
	for j := 0; j < tr.Graph.NumDst; j++ {
		for t2 := tr.Graph.RowPtr[j]; t2 < tr.Graph.RowPtr[j+1]; t2++ {
			e := tr.Edge[t2]
			if int(g.ColIdx[e]) != j || dst[e] != tr.Graph.ColIdx[t2] || tr.Graph.Weights[t2] != w[e] {
				t.Fatalf("reverse edge %d does not match original edge %d", t2, e)
			}
		}
	}
	back := tr.Graph.Transpose().Graph
	if !reflect.DeepEqual(back.RowPtr, g.RowPtr) || !reflect.DeepEqual(back.ColIdx, g.ColIdx) || !reflect.DeepEqual(back.Weights, g.Weights) {
		t.Error("transpose of transpose differs from the graph")
	}
}

func TestRandomIsSeededAndExact(t *testing.T) {
	a, _ := Random(1000, 16, 42)
	b, _ := Random(1000, 16, 42)
	c, _ := Random(1000, 16, 43)
	if !reflect.DeepEqual(a.ColIdx, b.ColIdx) {
		t.Error("same seed gave different graphs")
	}
	if reflect.DeepEqual(a.ColIdx, c.ColIdx) {
		t.Error("different seeds gave the same graph")
	}
	for i, d := range a.InDegrees() {
		if d != 16 {
			t.Fatalf("node %d has in-degree %d, want 16", i, d)
		}
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < a.NumDst; i++ {
		src, _ := a.Row(i)
		for k, s := range src {
			if int(s) == i || (k > 0 && s == src[k-1]) {
				t.Fatalf("node %d: self-loop or repeated neighbour %d", i, s)
			}
		}
	}
}

func TestPartitionCoversRowsBalanced(t *testing.T) {
	g, _ := Random(1000, 8, 1)
	for _, parts := range []int{1, 2, 3, 7, 64, 5000} {
		b := g.Partition(parts)
		if b[0] != 0 || b[len(b)-1] != g.NumDst {
			t.Fatalf("parts=%d: bounds %v do not cover [0, %d)", parts, b[:2], g.NumDst)
		}
		for k := 1; k < len(b); k++ {
			if b[k] <= b[k-1] {
				t.Fatalf("parts=%d: empty or reversed range at %d", parts, k)
			}
		}
		if parts <= 64 && len(b)-1 != parts {
			t.Errorf("parts=%d: got %d ranges", parts, len(b)-1)
		}
	}
	empty := &CSR{RowPtr: []int{0}}
	if b := empty.Partition(4); !reflect.DeepEqual(b, []int{0, 0}) {
		t.Errorf("empty graph partition = %v", b)
	}
}

func TestSymmetrize(t *testing.T) {
	g, _ := FromEdges(3, []int{0, 1, 1}, []int{1, 0, 2})
	s, err := g.Symmetrize()
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{1, 0, 2, 1}; !reflect.DeepEqual(s.ColIdx, want) {
		t.Errorf("symmetrized ColIdx = %v, want %v", s.ColIdx, want)
	}
}

func BenchmarkRandom(b *testing.B) {
	for b.Loop() {
		Random(100000, 16, 1)
	}
}

func TestSampleBlocks(t *testing.T) {
	g, _ := Random(500, 12, 3)
	rng := rand.New(rand.NewPCG(1, 2))
	seeds := []int{5, 17, 400, 2}
	blocks, err := g.Sample(seeds, []int{4, 3}, rng)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 {
		t.Fatalf("%d blocks, want 2", len(blocks))
	}
	last := blocks[1]
	for k, s := range seeds {
		if int(last.DstIDs()[k]) != s {
			t.Fatalf("last block destinations %v, want the seeds %v first", last.DstIDs(), seeds)
		}
	}
	if !reflect.DeepEqual(blocks[0].DstIDs(), blocks[1].SrcIDs) {
		t.Error("block 0's destinations are not block 1's sources")
	}
	for b, fan := range []int{3, 4} {
		bl := blocks[b]
		if err := bl.Graph.Validate(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < bl.Graph.NumDst; i++ {
			src, _ := bl.Graph.Row(i)
			if len(src) != fan {
				t.Fatalf("block %d node %d has %d sampled neighbours, want %d", b, i, len(src), fan)
			}
			orig := bl.SrcIDs[i]
			gsrc, _ := g.Row(int(orig))
			for _, s := range src {
				if !contains(gsrc, bl.SrcIDs[s]) {
					t.Fatalf("block %d: edge %d -> %d is not in the graph", b, bl.SrcIDs[s], orig)
				}
			}
		}
	}
	again, _ := g.Sample(seeds, []int{4, 3}, rand.New(rand.NewPCG(1, 2)))
	if !reflect.DeepEqual(again[0].SrcIDs, blocks[0].SrcIDs) {
		t.Error("the same seed sampled different blocks")
	}
	all, _ := g.Sample([]int{1}, []int{-1}, rng)
	if all[0].Graph.NumEdges() != 12 {
		t.Errorf("fan-out -1 kept %d of 12 neighbours", all[0].Graph.NumEdges())
	}
	for _, bad := range [][]int{{600}, {1, 1}} {
		if _, err := g.Sample(bad, []int{2}, rng); err == nil {
			t.Errorf("seeds %v accepted", bad)
		}
	}
}

func TestSubgraph(t *testing.T) {
	g, _ := FromEdges(4, []int{0, 1, 2, 3, 3}, []int{1, 2, 3, 0, 1})
	s, err := g.Subgraph([]int{3, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	// Kept edges: 0->1 (local 2->1), 3->0 (0->2), 3->1 (0->1).
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 0, 2, 3}; !reflect.DeepEqual(s.RowPtr, want) {
		t.Errorf("RowPtr %v, want %v", s.RowPtr, want)
	}
	if want := []int32{0, 2, 0}; !reflect.DeepEqual(s.ColIdx, want) {
		t.Errorf("ColIdx %v, want %v", s.ColIdx, want)
	}
}
