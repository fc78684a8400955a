package search

import "testing"

// benchIndex is a trained index over 2000 vectors of dimension 64.
func benchIndex(b *testing.B) (*Index, corpus) {
	c := clustered(2000, 64, 8, 8, 0.2, 1)
	s := build(b, c, Config{Seed: 1})
	pool, _ := split(len(c.vecs), 200)
	feedbackRound(b, s, c, pool[:64])
	return s, c
}

func BenchmarkSearch(b *testing.B) {
	s, c := benchIndex(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := i % len(c.vecs)
		if _, err := s.Search(Query{Vector: c.vecs[q], Exclude: []int{q}}, k); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaseline(b *testing.B) {
	s, c := benchIndex(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := i % len(c.vecs)
		if _, err := s.Baseline(Query{Vector: c.vecs[q], Exclude: []int{q}}, k); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrainStep is one optimiser step on a batch of DefaultBatchSize events.
func BenchmarkTrainStep(b *testing.B) {
	s, _ := benchIndex(b)
	pool := s.buf.ordered()
	var events []*event
	for _, e := range pool {
		if e.trainable() {
			events = append(events, e)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := s.step(sampleEvents(events, s.cfg.BatchSize, s.rng), s.feats, s.nbrs, s.fb); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefresh recomputes every corpus embedding, as Train does after its steps.
func BenchmarkRefresh(b *testing.B) {
	s, _ := benchIndex(b)
	emb := make([][]float32, len(s.feats))
	ids := seq(len(emb))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.w.embedRows(emb, ids, s.feats, s.nbrs, s.fb)
	}
}
