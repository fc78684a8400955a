package search

import (
	"runtime"
	"sync"
	"testing"
)

// TestFeedbackMemoryIsBounded feeds a million feedback events, each with ten co-relevance
// pairs, without training: the replay buffer and the pending pairs stay within their limits,
// the heap stops growing, and what was dropped is counted.
func TestFeedbackMemoryIsBounded(t *testing.T) {
	events := 1_000_000
	if testing.Short() || raceEnabled {
		events = 100_000
	}
	c := clustered(64, 4, 4, 4, 0.3, 5)
	cfg := Config{Hidden: 4, Candidates: 8, QueryDegree: 2, BufferSize: 1000, PendingEdges: 5000, Seed: 1}
	s := build(t, c, cfg)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	shown, rel := []int{1, 2, 3, 4, 5}, []bool{true, true, true, true, true}
	const workers = 2
	feed := func(n int) {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					if err := s.Feedback(Query{Vector: c.vecs[i%64]}, shown, rel); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	feed(events / 10)
	h1 := heap()
	feed(events - events/10)
	h2 := heap()
	st := s.Stats()
	t.Logf("%d events: heap %.1f MB after %d, %.1f MB after all; %+v", events, float64(h1)/1e6, events/10, float64(h2)/1e6, st)
	if st.TotalEvents != int64(events) || st.Events != cfg.BufferSize || st.EvictedEvents != int64(events-cfg.BufferSize) {
		t.Errorf("events: %+v", st)
	}
	if st.PendingEdges != cfg.PendingEdges || st.DroppedEdges != int64(10*events-cfg.PendingEdges) {
		t.Errorf("pending pairs: %+v, want %d pending and %d dropped", st, cfg.PendingEdges, 10*events-cfg.PendingEdges)
	}
	// Unbounded, the pairs alone would take 80 bytes per event: 80 MB for a million.
	if h2 > h1+4<<20 {
		t.Errorf("heap grew from %.1f MB to %.1f MB: feedback memory is not bounded", float64(h1)/1e6, float64(h2)/1e6)
	}
	if _, err := s.Train(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.PendingEdges != 0 {
		t.Errorf("pending after Train: %d", st.PendingEdges)
	}
}
