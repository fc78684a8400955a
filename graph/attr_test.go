package graph

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// attrGraph builds a graph whose edge k has attributes (src, dst, k), so a test can tell from
// the attributes which input edge a row belongs to.
func attrGraph(t *testing.T) *CSR {
	t.Helper()
	src := []int{3, 0, 2, 1, 0, 4, 2, 0, 3, 3}
	dst := []int{0, 0, 1, 2, 4, 4, 4, 3, 1, 0}
	attr := make([]float32, 0, 3*len(src))
	for k := range src {
		attr = append(attr, float32(src[k]), float32(dst[k]), float32(k))
	}
	g, err := FromEdgesAttr(5, src, dst, attr, 3)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// checkAligned checks that every edge's attribute row names its own (source, destination),
// mapped through srcID and dstID to the original node ids.
func checkAligned(t *testing.T, what string, g *CSR, srcID, dstID func(int) int) {
	t.Helper()
	attr, dim := g.EdgeAttr()
	if dim != 3 || len(attr) != 3*g.NumEdges() {
		t.Fatalf("%s: attributes %d values of width %d for %d edges", what, len(attr), dim, g.NumEdges())
	}
	for i := 0; i < g.NumDst; i++ {
		for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
			r := attr[3*e : 3*e+3]
			if int(r[0]) != srcID(int(g.ColIdx[e])) || int(r[1]) != dstID(i) {
				t.Fatalf("%s: edge %d (%d -> %d) has attributes %v", what, e, g.ColIdx[e], i, r)
			}
		}
	}
	if err := g.Validate(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func id(i int) int { return i }

func hadLoop(g *CSR, i int) bool {
	for e := g.RowPtr[i]; e < g.RowPtr[i+1]; e++ {
		if int(g.ColIdx[e]) == i {
			return true
		}
	}
	return false
}

func TestEdgeAttrFollowsBuildAndTranspose(t *testing.T) {
	g := attrGraph(t)
	checkAligned(t, "FromEdgesAttr", g, id, id)
	// The duplicate edge 3 -> 0 (input edges 0 and 9) keeps its input order.
	attr, _ := g.EdgeAttr()
	var ks []float32
	for e := g.RowPtr[0]; e < g.RowPtr[1]; e++ {
		if g.ColIdx[e] == 3 {
			ks = append(ks, attr[3*e+2])
		}
	}
	if len(ks) != 2 || ks[0] != 0 || ks[1] != 9 {
		t.Errorf("duplicates' input edges %v, want [0 9]", ks)
	}
	tr := g.Transpose()
	// The reverse graph's edge j -> i is the original i -> j: the roles swap.
	ta, dim := tr.Graph.EdgeAttr()
	for t2, e := range tr.Edge {
		for j := 0; j < dim; j++ {
			if ta[3*t2+j] != attr[3*int(e)+j] {
				t.Fatalf("transpose edge %d: attributes %v, want those of edge %d", t2, ta[3*t2:3*t2+3], e)
			}
		}
	}
	w, err := g.WithWeights(make([]float32, g.NumEdges()))
	if err != nil {
		t.Fatal(err)
	}
	checkAligned(t, "WithWeights", w, id, id)
	checkAligned(t, "MeanWeights", g.MeanWeights(), id, id)
}

func TestEdgeAttrSelfLoops(t *testing.T) {
	g := attrGraph(t)
	for _, c := range []struct {
		fill AttrFill
		want func(i int) []float32 // the new loop of node i
	}{
		{AttrFill{Value: []float32{7}}, func(int) []float32 { return []float32{7, 7, 7} }},
		{AttrFill{Value: []float32{1, 2, 3}}, func(int) []float32 { return []float32{1, 2, 3} }},
		{AttrFill{Reduce: "mean"}, nil},
		{AttrFill{Reduce: "max"}, nil},
	} {
		s, err := g.AddSelfLoopsAttr(1, c.fill)
		if err != nil {
			t.Fatal(err)
		}
		attr, _ := s.EdgeAttr()
		for i := 0; i < s.NumDst; i++ {
			for e := s.RowPtr[i]; e < s.RowPtr[i+1]; e++ {
				if int(s.ColIdx[e]) != i || hadLoop(g, i) {
					if int(attr[3*e]) != int(s.ColIdx[e]) || int(attr[3*e+1]) != i {
						t.Fatalf("%+v: edge %d -> %d has attributes %v", c.fill, s.ColIdx[e], i, attr[3*e:3*e+3])
					}
					continue
				}
				var want []float32
				switch {
				case c.want != nil:
					want = c.want(i)
				default:
					// Combine node i's in-edges of the original graph.
					lo, hi := g.RowPtr[i], g.RowPtr[i+1]
					ga, _ := g.EdgeAttr()
					want = make([]float32, 3)
					for e2 := lo; e2 < hi; e2++ {
						for j := 0; j < 3; j++ {
							v := ga[3*e2+j]
							if c.fill.Reduce == "max" {
								if e2 == lo || v > want[j] {
									want[j] = v
								}
							} else {
								want[j] += v / float32(hi-lo)
							}
						}
					}
				}
				for j := range want {
					if d := attr[3*e+j] - want[j]; d > 1e-5 || d < -1e-5 {
						t.Fatalf("%+v: self-loop of %d has attributes %v, want %v", c.fill, i, attr[3*e:3*e+3], want)
					}
				}
			}
		}
	}
	s, err := g.AddSelfLoops(2)
	if err != nil {
		t.Fatal(err)
	}
	attr, _ := s.EdgeAttr()
	for e := s.RowPtr[2]; e < s.RowPtr[3]; e++ {
		if s.ColIdx[e] == 2 && (attr[3*e] != 2 || attr[3*e+2] != 2) {
			t.Errorf("AddSelfLoops(2): new loop attributes %v, want 2 in every column", attr[3*e:3*e+3])
		}
	}
	norm, err := g.GCNNorm()
	if err != nil {
		t.Fatal(err)
	}
	if _, dim := norm.EdgeAttr(); dim != 3 {
		t.Errorf("GCNNorm dropped the edge attributes")
	}
	for _, bad := range []AttrFill{{}, {Value: []float32{1, 2}}, {Reduce: "median"}, {Value: []float32{1}, Reduce: "add"}} {
		if _, err := g.AddSelfLoopsAttr(1, bad); err == nil {
			t.Errorf("AddSelfLoopsAttr accepted %+v", bad)
		}
	}
}

func TestEdgeAttrSampleSubgraphCoalesce(t *testing.T) {
	base, err := Random(300, 6, 4)
	if err != nil {
		t.Fatal(err)
	}
	attr := make([]float32, 0, 3*base.NumEdges())
	for i := 0; i < base.NumDst; i++ {
		for e := base.RowPtr[i]; e < base.RowPtr[i+1]; e++ {
			attr = append(attr, float32(base.ColIdx[e]), float32(i), float32(e))
		}
	}
	g, err := base.WithEdgeAttr(attr, 3)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := g.Sample([]int{5, 17, 99, 3}, []int{4, 3}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for k, b := range blocks {
		checkAligned(t, "Sample", b.Graph, func(j int) int { return int(b.SrcIDs[j]) }, func(i int) int { return int(b.SrcIDs[i]) })
		ba, _ := b.Graph.EdgeAttr()
		for e, orig := range b.EdgeIDs {
			if int(ba[3*e+2]) != int(orig) {
				t.Fatalf("block %d edge %d: EdgeIDs says %d, attributes say %v", k, e, orig, ba[3*e+2])
			}
		}
	}
	nodes := []int{40, 2, 7, 100, 3, 250, 9, 11}
	sub, err := g.Subgraph(nodes)
	if err != nil {
		t.Fatal(err)
	}
	checkAligned(t, "Subgraph", sub, func(j int) int { return nodes[j] }, func(i int) int { return nodes[i] })

	// Coalesce adds the rows of duplicates; Symmetrize averages them.
	d, err := FromEdgesAttr(3, []int{1, 1, 2}, []int{0, 0, 0}, []float32{1, 10, 2, 20, 5, 50}, 2)
	if err != nil {
		t.Fatal(err)
	}
	c := d.Coalesce()
	if a, _ := c.EdgeAttr(); len(a) != 4 || a[0] != 3 || a[1] != 30 || a[2] != 5 {
		t.Errorf("Coalesce attributes %v, want [3 30 5 50]", a)
	}
	s, err := d.Symmetrize()
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := s.EdgeAttr()
	for i := 0; i < s.NumDst; i++ {
		for e := s.RowPtr[i]; e < s.RowPtr[i+1]; e++ {
			pair := [2]int{min(i, int(s.ColIdx[e])), max(i, int(s.ColIdx[e]))}
			want := map[[2]int]float32{{0, 1}: 1.5, {0, 2}: 5}[pair]
			if sa[2*e] != want {
				t.Errorf("Symmetrize: edge %d -> %d attribute %v, want %v", s.ColIdx[e], i, sa[2*e], want)
			}
		}
	}
}

func TestEdgeAttrErrors(t *testing.T) {
	g := attrGraph(t)
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"length", func() error { _, err := g.WithEdgeAttr(make([]float32, 7), 3); return err }(), "want edges x dim = 30"},
		{"dim", func() error { _, err := g.WithEdgeAttr(nil, 0); return err }(), "want dim >= 1"},
		{"build", func() error {
			_, err := FromEdgesAttr(3, []int{0, 1}, []int{1, 2}, []float32{1, 2, 3}, 2)
			return err
		}(), "3 edge attribute values for 2 edges"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
	if a, dim := g.Transpose().Graph.Coalesce().EdgeAttr(); dim != 3 || a == nil {
		t.Error("attributes lost through Transpose and Coalesce")
	}
	plain, _ := FromEdges(2, []int{0}, []int{1})
	if a, dim := plain.EdgeAttr(); a != nil || dim != 0 {
		t.Errorf("a graph without attributes reports %v, %d", a, dim)
	}
}

// TestDerivedGraphsAreCached: MeanAggregate calls MeanWeights and the backward pass its
// Transpose on every graph build; both must be built once per graph.
func TestDerivedGraphsAreCached(t *testing.T) {
	g, err := Random(50, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := g.MeanWeights()
	tr := g.Transpose()
	if g.MeanWeights() != m || m.Transpose() != g.MeanWeights().Transpose() || g.Transpose() != tr {
		t.Error("MeanWeights or Transpose rebuilt on a second call")
	}
}
