package search

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// twins returns 2n clustered vectors and two equal indexes of the first n, trained on the same
// feedback: one to change by single writes, one by batches.
func twins(t *testing.T, n int, seed uint64) (corpus, *Index, *Index) {
	c := clustered(2*n, 16, 4, 4, 0.3, seed)
	cur := corpus{vecs: slices.Clone(c.vecs[:n]), labels: c.labels[:n]}
	one, batch := build(t, cur, testConfig), build(t, cur, testConfig)
	pool, _ := split(n, 50)
	feedbackRound(t, one, cur, pool[:60])
	feedbackRound(t, batch, cur, pool[:60])
	return c, one, batch
}

// TestBatchEqualsSequence: a random mix of adds (new and reused ids), deletes (of old ids, of
// ids added in the same batch, of unknown ids) and updates, applied in Batches of a few writes,
// gives every write the answer, and the index the state (ids, vectors, lists, embeddings,
// feedback, search results), that the same writes made one by one by Add, Delete and
// UpdateBatch give; refused writes change nothing.
func TestBatchEqualsSequence(t *testing.T) {
	const n = 300
	c, one, bat := twins(t, n, 41)

	type write struct {
		op   int // 0 add, 1 delete, 2 update
		ids  []int
		vecs [][]float32
	}
	rng := rand.New(rand.NewPCG(5, 9))
	live := map[int]bool{}
	for i := range n {
		live[i] = true
	}
	next := n // an upper bound on the ids handed out, for drawing ids that may be gone
	vec := func() []float32 { return c.vecs[n+rng.IntN(n)] }
	var writes []write
	for range 200 {
		w := write{op: rng.IntN(3)}
		switch w.op {
		case 0:
			for range 1 + rng.IntN(3) {
				w.vecs = append(w.vecs, vec())
			}
			next += len(w.vecs)
		default:
			for range 1 + rng.IntN(2) {
				w.ids = append(w.ids, rng.IntN(next))
			}
			if w.op == 2 {
				for range w.ids {
					w.vecs = append(w.vecs, vec())
				}
			}
		}
		writes = append(writes, w)
	}
	apply := func(add func(...[]float32) ([]int, error), del func(...int) error, upd func([]int, [][]float32) error, w write) string {
		switch w.op {
		case 0:
			ids, err := add(w.vecs...)
			return fmt.Sprint(ids, err)
		case 1:
			return fmt.Sprint(del(w.ids...))
		}
		return fmt.Sprint(upd(w.ids, w.vecs))
	}
	var want, got []string
	for _, w := range writes {
		want = append(want, apply(one.Add, one.Delete, one.UpdateBatch, w))
	}
	for i := 0; i < len(writes); {
		b := bat.Begin()
		for end := min(len(writes), i+1+rng.IntN(8)); i < end; i++ {
			got = append(got, apply(b.Add, b.Delete, b.UpdateBatch, writes[i]))
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	refused := 0
	for i := range writes {
		if got[i] != want[i] {
			t.Fatalf("write %d (op %d): batched %s, one by one %s", i, writes[i].op, got[i], want[i])
		}
		if want[i] != "<nil>" && writes[i].op != 0 {
			refused++
		}
	}
	if refused == 0 || refused == len(writes) {
		t.Fatalf("%d of %d writes refused: the mix does not test both", refused, len(writes))
	}
	checkConsistent(t, bat)
	if one.Len() != bat.Len() || one.Live() != bat.Live() || !slices.Equal(one.free, bat.free) {
		t.Fatalf("Len %d/%d, Live %d/%d, free ids %v/%v: batched/one by one", bat.Len(), one.Len(), bat.Live(), one.Live(), bat.free, one.free)
	}
	for i := range one.Len() {
		v1, _ := one.Vector(i)
		v2, _ := bat.Vector(i)
		if one.Deleted(i) != bat.Deleted(i) || !slices.Equal(v1, v2) || !slices.Equal(one.nbrs[i], bat.nbrs[i]) ||
			!slices.Equal(one.emb[i], bat.emb[i]) || !slices.Equal(one.fb[i], bat.fb[i]) {
			t.Fatalf("node %d: state after batches differs from the writes one by one", i)
		}
	}
	if !slices.Equal(one.buf.pending, bat.buf.pending) || len(one.buf.events) != len(bat.buf.events) {
		t.Fatal("feedback buffer after batches differs from the writes one by one")
	}
	for q := range 50 {
		qv := Query{Vector: c.vecs[n+q]}
		for _, f := range []func(*Index) ([]Result, error){
			func(s *Index) ([]Result, error) { return s.Search(qv, k) },
			func(s *Index) ([]Result, error) { return s.Baseline(qv, k) },
		} {
			r1, err1 := f(one)
			r2, err2 := f(bat)
			if err1 != nil || err2 != nil || !slices.Equal(r1, r2) {
				t.Fatalf("query %d: batched %v (%v), one by one %v (%v)", q, r2, err2, r1, err1)
			}
		}
	}
}
