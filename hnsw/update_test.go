package hnsw_test

import (
	"strings"
	"testing"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/vecio"
)

// TestUpdate: updating 20% of the nodes to new vectors (a quarter of them deleted first, so
// Update revives them) keeps the invariants, finds every new vector at distance 0 and keeps
// recall at the level of a fresh build over the final vectors.
func TestUpdate(t *testing.T) {
	n, nq, dim, k := size(5000, 10), 100, 32, 10
	base, queries := dataset(n, nq, dim, 11)
	repl, _ := dataset(n, 0, dim, 12)
	cfg := hnsw.Config{Dim: dim, M: 16, EfConstruction: 200, Seed: 5}
	ix := build(t, cfg, base)
	final := append([]float32(nil), base...)
	for i := 0; i < n; i += 5 {
		if i%20 == 0 {
			if err := ix.Delete(i); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 0; i < n; i += 5 {
		v := repl[i*dim : (i+1)*dim]
		if err := ix.Update(i, v); err != nil {
			t.Fatal(err)
		}
		copy(final[i*dim:], v)
	}
	checkInvariants(t, ix)
	if ix.Live() != n || ix.Len() != n {
		t.Fatalf("Live %d, Len %d after updates; want %d, %d", ix.Live(), ix.Len(), n, n)
	}
	for i := 0; i < n; i += 50 {
		res, err := ix.Search(final[i*dim:(i+1)*dim], 1, 0)
		if err != nil || len(res) != 1 || res[0].Dist != 0 {
			t.Fatalf("search for updated vector %d: %v, %v", i, res, err)
		}
	}
	truth, err := vecio.GroundTruth(final, queries, dim, k, hnsw.L2)
	if err != nil {
		t.Fatal(err)
	}
	got := recallOf(t, searchAll(t, ix, queries, k, 50), truth, k, nil)
	fresh := recallOf(t, searchAll(t, build(t, cfg, final), queries, k, 50), truth, k, nil)
	t.Logf("recall@%d at ef=50: updated %.3f, fresh build %.3f", k, got, fresh)
	if got < fresh-0.01 {
		t.Errorf("recall after updates %.3f, fresh build %.3f: want within 0.01", got, fresh)
	}
	if err := ix.Update(n, base[:dim]); err == nil {
		t.Error("Update of an id out of range: no error")
	}
	if err := ix.Update(0, base[:dim-1]); err == nil {
		t.Error("Update with the wrong dimension: no error")
	}
}

// TestUpdateOnlyNode: the entry point updated when it is the only node, and a revived node
// in an index otherwise empty, become the entry point again.
func TestUpdateOnlyNode(t *testing.T) {
	ix := build(t, hnsw.Config{Dim: 2, M: 4, Seed: 1}, []float32{1, 0})
	for _, v := range [][]float32{{0, 1}, {1, 1}} {
		if err := ix.Update(0, v); err != nil {
			t.Fatal(err)
		}
		if res, _ := ix.Search(v, 1, 0); len(res) != 1 || res[0].Dist != 0 {
			t.Fatalf("search after update: %v", res)
		}
	}
	if err := ix.Delete(0); err != nil {
		t.Fatal(err)
	}
	if err := ix.Update(0, []float32{2, 2}); err != nil {
		t.Fatal(err)
	}
	if ix.Live() != 1 || ix.Levels() == 0 {
		t.Fatalf("Live %d, Levels %d after reviving the only node", ix.Live(), ix.Levels())
	}
	checkInvariants(t, ix)
}

// TestOwn: an owned index refuses changes except through its Writer.
func TestOwn(t *testing.T) {
	base, _ := dataset(100, 0, 4, 2)
	ix := build(t, hnsw.Config{Dim: 4, M: 4, Seed: 3}, base)
	w, err := ix.Own("search.Index")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Own("other"); err == nil || !strings.Contains(err.Error(), "search.Index") {
		t.Errorf("second Own: %v", err)
	}
	if _, err := ix.Add(base[:4]); err == nil || !strings.Contains(err.Error(), "owned by search.Index") {
		t.Errorf("Add on an owned index: %v", err)
	}
	if err := ix.Delete(1); err == nil {
		t.Error("Delete on an owned index: no error")
	}
	if err := ix.Update(1, base[:4]); err == nil {
		t.Error("Update on an owned index: no error")
	}
	if ix.Len() != 100 || ix.Live() != 100 {
		t.Fatalf("refused changes changed the index: Len %d Live %d", ix.Len(), ix.Live())
	}
	if id, err := w.Add(base[:4]); err != nil || id != 100 {
		t.Fatalf("Writer.Add: %d, %v", id, err)
	}
	if err := w.Delete(3); err != nil {
		t.Fatal(err)
	}
	if err := w.Update(3, base[8:12]); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, ix)
}
