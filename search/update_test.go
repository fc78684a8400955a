package search

import (
	"cmp"
	"slices"
	"strings"
	"testing"

	"github.com/gnnlab/gognn/hnsw"
)

// exactTopK returns the ids of the k vectors of vecs (those with live[i]) closest to q by
// cosine similarity.
func exactTopK(vecs [][]float32, live []bool, q []float32, k int, exclude int) []int {
	type sc struct {
		id int
		s  float64
	}
	var all []sc
	qn := normalize(q)
	for i, v := range vecs {
		if !live[i] || i == exclude {
			continue
		}
		vn := normalize(v)
		var d float64
		for j := range vn {
			d += float64(vn[j]) * float64(qn[j])
		}
		all = append(all, sc{i, d})
	}
	slices.SortFunc(all, func(a, b sc) int { return cmp.Compare(b.s, a.s) })
	out := make([]int, 0, k)
	for _, a := range all[:min(k, len(all))] {
		out = append(out, a.id)
	}
	return out
}

// recallAt10 is the mean recall@10 of search against exact search over the live vectors.
func recallAt10(t *testing.T, vecs [][]float32, live []bool, queries []int, search func(Query, int) ([]Result, error)) float64 {
	t.Helper()
	var hit, all int
	for _, q := range queries {
		res, err := search(Query{Vector: vecs[q], Exclude: []int{q}}, k)
		if err != nil {
			t.Fatal(err)
		}
		truth := exactTopK(vecs, live, vecs[q], k, q)
		for _, r := range res {
			if !live[r.ID] {
				t.Fatalf("query %d returned deleted id %d", q, r.ID)
			}
			if slices.Contains(truth, r.ID) {
				hit++
			}
		}
		all += len(truth)
	}
	return float64(hit) / float64(all)
}

// checkConsistent checks that the serving state equals what a full recomputation from the HNSW
// index gives and that no deleted id is left in the feedback state.
func checkConsistent(t *testing.T, s *Index) {
	t.Helper()
	nbrs, err := layer0(s.ix)
	if err != nil {
		t.Fatal(err)
	}
	for i := range nbrs {
		if !slices.Equal(nbrs[i], s.nbrs[i]) {
			t.Fatalf("node %d: layer-0 list %v, full recomputation %v", i, s.nbrs[i], nbrs[i])
		}
	}
	full := make([][]float32, s.Len())
	s.w.embedRows(full, seq(s.Len()), s.feats, s.nbrs, s.fb)
	for i := range full {
		if s.ix.Deleted(i) {
			if s.emb[i] != nil || len(s.fb[i]) != 0 {
				t.Fatalf("deleted node %d keeps an embedding or feedback edges", i)
			}
			continue
		}
		if !slices.Equal(full[i], s.emb[i]) {
			t.Fatalf("node %d: refreshed embedding differs from a full recomputation", i)
		}
		for _, j := range s.fb[i] {
			if s.ix.Deleted(int(j)) {
				t.Fatalf("node %d keeps feedback edge to deleted %d", i, j)
			}
		}
	}
	for _, e := range s.buf.events {
		for _, id := range append(slices.Clone(e.Shown), e.Nbrs...) {
			if s.ix.Deleted(int(id)) {
				t.Fatalf("a buffered event refers to deleted id %d", id)
			}
		}
	}
	for _, p := range s.buf.pending {
		if s.ix.Deleted(int(p[0])) || s.ix.Deleted(int(p[1])) {
			t.Fatalf("pending pair %v refers to a deleted id", p)
		}
	}
}

// TestDeleteUpdate: after feedback, deleting 10% of the corpus and updating another 10% keeps
// the serving state exactly what a full recomputation gives, never returns a deleted id, keeps
// recall@10 (against exact search of the remaining vectors) within 0.01 of a fresh index over
// them at the same ef, and precision@10 after more feedback within noise of the fresh index's.
func TestDeleteUpdate(t *testing.T) {
	const n = 1200
	c := clustered(2*n, 32, 6, 6, 0.3, 21) // the second half: replacement vectors, same classes
	cur := corpus{vecs: slices.Clone(c.vecs[:n]), labels: c.labels[:n]}
	s := build(t, cur, testConfig)
	pool, eval := split(n, 200)
	feedbackRound(t, s, cur, pool[:100])
	for r := 0; r < 2; r++ { // pending pairs and events that the deletes must clean
		judge(t, s, cur, pool[100+50*r:150+50*r])
	}
	live := make([]bool, n)
	var del []int
	for i := range live {
		live[i] = i%10 != 1
		if !live[i] {
			del = append(del, i)
		}
	}
	if err := s.Delete(del...); err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, s)
	for i := 2; i < n; i += 10 {
		if err := s.Update(i, c.vecs[n+i]); err != nil {
			t.Fatal(err)
		}
		cur.vecs[i] = c.vecs[n+i]
	}
	checkConsistent(t, s)
	if err := s.Delete(1); err == nil || !strings.Contains(err.Error(), "already deleted") {
		t.Errorf("deleting twice: %v", err)
	}
	if err := s.Update(1, c.vecs[0]); err == nil {
		t.Error("updating a deleted id: no error")
	}
	if err := s.Feedback(Query{Vector: cur.vecs[0]}, []int{1}, []bool{true}); err == nil {
		t.Error("feedback on a deleted id: no error")
	}
	if st := s.Stats(); st.Live != n-len(del) || st.Deleted != len(del) {
		t.Errorf("stats after deletes: %+v", st)
	}

	// A fresh index over the remaining vectors; fresh id f is corpus id ids[f].
	var ids []int
	var fresh corpus
	for i := range live {
		if live[i] {
			ids = append(ids, i)
			fresh.vecs, fresh.labels = append(fresh.vecs, cur.vecs[i]), append(fresh.labels, cur.labels[i])
		}
	}
	f := build(t, fresh, testConfig)
	var evalLive []int
	for _, q := range eval {
		if live[q] {
			evalLive = append(evalLive, q)
		}
	}
	toFresh := func(search func(Query, int) ([]Result, error)) func(Query, int) ([]Result, error) {
		return func(q Query, k int) ([]Result, error) {
			for i, x := range q.Exclude {
				q.Exclude[i], _ = slices.BinarySearch(ids, x)
			}
			res, err := search(q, k)
			for i := range res {
				res[i].ID = ids[res[i].ID]
			}
			return res, err
		}
	}
	rGot := recallAt10(t, cur.vecs, live, evalLive, s.Baseline)
	rFresh := recallAt10(t, cur.vecs, live, evalLive, toFresh(f.Baseline))
	t.Logf("recall@10 (plain HNSW, ef = %d): after deletes and updates %.4f, fresh index %.4f", testConfig.Candidates, rGot, rFresh)
	if rGot < rFresh-0.01 {
		t.Errorf("recall@10 %.4f, fresh index %.4f: want within 0.01", rGot, rFresh)
	}
	recallAt10(t, cur.vecs, live, evalLive, s.Search) // no deleted id from the re-ranked search

	// Feedback after the changes: precision as on the fresh index, within noise.
	var more, moreFresh []int
	for _, q := range pool[200:] {
		if live[q] && len(more) < 200 {
			more = append(more, q)
			i, _ := slices.BinarySearch(ids, q)
			moreFresh = append(moreFresh, i)
		}
	}
	freshEval := make([]int, len(evalLive))
	for i, q := range evalLive {
		freshEval[i], _ = slices.BinarySearch(ids, q)
	}
	for r := 0; r < 4; r++ {
		feedbackRound(t, s, cur, more[r*50:(r+1)*50])
		feedbackRound(t, f, fresh, moreFresh[r*50:(r+1)*50])
	}
	checkConsistent(t, s)
	pGot, pFresh := precision(t, cur, evalLive, s.Search), precision(t, fresh, freshEval, f.Search)
	t.Logf("precision@10 after feedback: changed index %.3f, fresh index %.3f", pGot, pFresh)
	if pGot < pFresh-0.03 {
		t.Errorf("precision@10 %.3f, fresh index %.3f: want within 0.03", pGot, pFresh)
	}

	// Add reuses deleted ids, most recently deleted first.
	got, err := s.Add(c.vecs[n+1], c.vecs[n+11])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []int{del[len(del)-1], del[len(del)-2]}) || s.Len() != n {
		t.Errorf("Add after deletes returned %v (Len %d), want the last deleted ids %v", got, s.Len(), del[len(del)-2:])
	}
	checkConsistent(t, s)
}

// TestOwnership: the wrapped hnsw.Index refuses changes made behind the wrapper's back.
func TestOwnership(t *testing.T) {
	c := clustered(200, 8, 4, 4, 0.3, 3)
	s := build(t, c, testConfig)
	ix := s.ix
	for i := 0; i < 50; i++ {
		if _, err := ix.Add(c.vecs[i]); err == nil || !strings.Contains(err.Error(), "owned by search.Index") {
			t.Fatalf("raw Add after search.New: %v", err)
		}
	}
	if err := ix.Delete(3); err == nil {
		t.Fatal("raw Delete after search.New: no error")
	}
	if ix.Len() != 200 || ix.Live() != 200 {
		t.Fatalf("refused changes changed the index: Len %d Live %d", ix.Len(), ix.Live())
	}
	if _, err := New(ix, testConfig); err == nil || !strings.Contains(err.Error(), "already owned") {
		t.Errorf("wrapping an owned index twice: %v", err)
	}
	raw, err := hnsw.New(hnsw.Config{Dim: 8, Metric: hnsw.L2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(raw, testConfig); err == nil || raw.Owner() != "" {
		t.Errorf("a refused New owns the index: %v, owner %q", err, raw.Owner())
	}
}

// TestSetWeights: an index given a trained index's weights ranks as it does on the same corpus.
func TestSetWeights(t *testing.T) {
	c := clustered(300, 16, 4, 4, 0.3, 13)
	a, b := build(t, c, testConfig), build(t, c, testConfig)
	pool, eval := split(300, 50)
	feedbackRound(t, a, c, pool[:100])
	if err := b.SetWeights(a.Weights()); err != nil {
		t.Fatal(err)
	}
	if b.Stats().Steps != a.Stats().Steps {
		t.Errorf("version %d, want %d", b.Stats().Steps, a.Stats().Steps)
	}
	// Feedback edges differ (b has none), so compare on nodes without any.
	for _, q := range eval {
		ra, _ := a.Search(Query{Vector: c.vecs[q]}, 5)
		rb, _ := b.Search(Query{Vector: c.vecs[q]}, 5)
		if len(a.fb[ra[0].ID]) == 0 && ra[0].ID != rb[0].ID {
			t.Errorf("query %d: top result %d with the weights, %d in the trained index", q, rb[0].ID, ra[0].ID)
		}
	}
	bad := a.Weights()
	bad.Tensors[0] = bad.Tensors[0][1:]
	if err := b.SetWeights(bad); err == nil {
		t.Error("weights of the wrong size: no error")
	}
}

// TestUpdateBatch: one UpdateBatch leaves the same state as the same Updates one by one, and a
// bad batch changes nothing.
func TestUpdateBatch(t *testing.T) {
	const n = 400
	c, one, batch := twins(t, n, 31)
	var ids []int
	var vecs [][]float32
	for i := 3; i < n; i += 7 {
		ids, vecs = append(ids, i), append(vecs, c.vecs[n+i])
	}
	for i, id := range ids {
		if err := one.Update(id, vecs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.UpdateBatch(ids, vecs); err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, batch)
	for i := 0; i < n; i++ {
		if !slices.Equal(one.nbrs[i], batch.nbrs[i]) || !slices.Equal(one.emb[i], batch.emb[i]) || !slices.Equal(one.fb[i], batch.fb[i]) {
			t.Fatalf("node %d: state after UpdateBatch differs from Updates one by one", i)
		}
	}
	if !slices.Equal(one.buf.pending, batch.buf.pending) || len(one.buf.events) != len(batch.buf.events) {
		t.Fatalf("feedback buffer after UpdateBatch differs: %d pending, %d events; one by one %d, %d",
			len(batch.buf.pending), len(batch.buf.events), len(one.buf.pending), len(one.buf.events))
	}

	if err := batch.Delete(5); err != nil {
		t.Fatal(err)
	}
	before, _ := batch.Vector(0)
	for _, tc := range []struct {
		ids  []int
		vecs [][]float32
		want string
	}{
		{[]int{0, 1}, vecs[:1], "2 ids and 1 vectors"},
		{[]int{0, 0}, vecs[:2], "ids[1] = 0 is listed twice"},
		{[]int{0, 5}, vecs[:2], "ids[1] = 5 is not a live vector"},
		{[]int{0, n}, vecs[:2], "ids[1] = 400 is not a live vector"},
		{[]int{0, 1}, [][]float32{vecs[0], vecs[1][:3]}, "vecs[1] has dimension 3"},
	} {
		err := batch.UpdateBatch(tc.ids, tc.vecs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("UpdateBatch(%v): %v, want %q", tc.ids, err, tc.want)
		}
	}
	if after, _ := batch.Vector(0); !slices.Equal(before, after) {
		t.Error("a refused UpdateBatch changed vector 0")
	}
	if err := batch.Update(5, vecs[0]); err == nil || !strings.Contains(err.Error(), "Update: id 5 is not a live vector") {
		t.Errorf("Update of a deleted id: %v", err)
	}
	checkConsistent(t, batch)
}

// TestTrainDuringWrites: Adds, Deletes and Updates running while Train re-embeds the corpus
// leave the serving state exactly what a full recomputation gives, and no deleted id behind.
func TestTrainDuringWrites(t *testing.T) {
	const n = 600
	defer func(rows int) { catchUpRows = rows }(catchUpRows)
	catchUpRows = 4 // catch up with the writes in rounds without the lock, as at 100,000
	c := clustered(2*n, 16, 4, 4, 0.3, 41)
	cur := corpus{vecs: slices.Clone(c.vecs[:n]), labels: slices.Clone(c.labels[:n])}
	s := build(t, cur, testConfig)
	pool, _ := split(n, 50)
	next, redone := n, 0
	for round := 0; round < 6; round++ {
		// Feedback with co-relevant pairs among ids that the writes below delete or update.
		judge(t, s, cur, pool[round*40:(round+1)*40])
		done := make(chan error)
		go func() {
			st, err := s.Train()
			if st.Refreshed > s.Len() { // some nodes embedded twice: writes ran during the re-embedding
				redone++
			}
			done <- err
		}()
		for w := 0; ; w++ {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
				checkConsistent(t, s)
				goto next
			default:
			}
			id := (round*97 + w*13) % n
			switch {
			case s.Deleted(id):
				if _, err := s.Add(c.vecs[next%(2*n)]); err != nil {
					t.Fatal(err)
				}
				next++
			case w%3 == 0:
				if err := s.Delete(id); err != nil {
					t.Fatal(err)
				}
			default:
				if err := s.Update(id, c.vecs[next%(2*n)]); err != nil {
					t.Fatal(err)
				}
				next++
			}
		}
	next:
	}
	if st := s.Stats(); st.Steps == 0 {
		t.Errorf("no training steps: %+v", st)
	}
	t.Logf("%d of 6 Train calls re-embedded nodes that writes changed meanwhile", redone)
}
