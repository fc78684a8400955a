package hnsw_test

import (
	"testing"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/vecio"
)

// TestChurnRecall: after deleting 10% of the nodes and updating another 10%, recall@10 against
// exact search of the live vectors stays within 0.01 of indexes built fresh from them (mean of
// two seeds) at every ef, no deleted id is returned, and the repairs do not lower the mean
// layer-0 degree. (experiments/search -churn is the large version.)
func TestChurnRecall(t *testing.T) {
	n, nq, dim, k := size(5000, 5), 200, 32, 10
	base, queries := dataset(n, nq, dim, 21)
	repl, _ := dataset(n, 0, dim, 22)
	cfg := hnsw.Config{Dim: dim, M: 8, EfConstruction: 100, Seed: 3}
	ix := build(t, cfg, base)
	degBefore := meanDegree(t, ix)
	var final []float32
	var toFinal []int
	for i := 0; i < n; i++ {
		switch i % 10 {
		case 1:
			if err := ix.Delete(i); err != nil {
				t.Fatal(err)
			}
			toFinal = append(toFinal, -1)
			continue
		case 2:
			if err := ix.Update(i, repl[i*dim:(i+1)*dim]); err != nil {
				t.Fatal(err)
			}
			final = append(final, repl[i*dim:(i+1)*dim]...)
		default:
			final = append(final, base[i*dim:(i+1)*dim]...)
		}
		toFinal = append(toFinal, len(final)/dim-1)
	}
	checkInvariants(t, ix)
	truth, err := vecio.GroundTruth(final, queries, dim, k, hnsw.L2)
	if err != nil {
		t.Fatal(err)
	}
	var fresh []*hnsw.Index
	for s := range uint64(2) {
		c := cfg
		c.Seed = 10 + s
		fresh = append(fresh, build(t, c, final))
	}
	for _, ef := range []int{10, 20, 40} {
		res := searchAll(t, ix, queries, k, ef)
		for q, r := range res {
			for _, x := range r {
				if toFinal[x.ID] < 0 {
					t.Fatalf("ef %d, query %d: deleted id %d returned", ef, q, x.ID)
				}
			}
		}
		got := recallOf(t, res, truth, k, toFinal)
		var want float64
		for _, f := range fresh {
			want += recallOf(t, searchAll(t, f, queries, k, ef), truth, k, nil) / float64(len(fresh))
		}
		t.Logf("ef %d: recall@%d after the changes %.4f, fresh indexes %.4f", ef, k, got, want)
		if got < want-0.01 {
			t.Errorf("ef %d: recall@%d %.4f after deletes and updates, fresh indexes %.4f: want within 0.01", ef, k, got, want)
		}
	}
	degAfter, degFresh := meanDegree(t, ix), meanDegree(t, fresh[0])
	t.Logf("mean layer-0 degree: built %.2f, after the changes %.2f, fresh %.2f", degBefore, degAfter, degFresh)
	if degAfter < degBefore {
		t.Errorf("mean layer-0 degree fell from %.2f to %.2f: repairs must not thin the graph", degBefore, degAfter)
	}
}

func meanDegree(t *testing.T, ix *hnsw.Index) float64 {
	t.Helper()
	g, err := ix.Layer(0)
	if err != nil {
		t.Fatal(err)
	}
	return float64(g.NumEdges()) / float64(ix.Live())
}
