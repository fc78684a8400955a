package search

import (
	"fmt"
	"slices"
)

// event is one feedback event: a query (as the new node it was: its unit-norm features and its
// nearest candidates) and the results shown for it with their judgements. Immutable once made.
type event struct {
	Query    sparseVec
	Nbrs     []int32 // the query node's neighbours: its QueryDegree nearest candidates
	Shown    []int32
	Relevant []bool
}

// trainable reports whether the event has a relevant and an irrelevant result, so that it gives
// at least one (positive, negative) pair to the loss.
func (e *event) trainable() bool {
	var pos, neg bool
	for _, r := range e.Relevant {
		pos, neg = pos || r, neg || !r
	}
	return pos && neg
}

// replay is the bounded replay buffer: a ring of the last cap events, plus the co-relevance
// edges that feedback has produced and the next Train has not applied yet, at most pendingCap
// of them (the newest).
type replay struct {
	cap        int
	events     []*event // ring; when full, next is the oldest
	next       int
	total      int64      // events ever received
	pending    [][2]int32 // new feedback edges (a, b), a < b, oldest first
	pendingCap int
	dropped    int64 // pending edges dropped, oldest first, to keep within pendingCap
	evicted    int64 // events dropped from the full ring
}

func (r *replay) push(e *event) {
	r.total++
	if len(r.events) < r.cap {
		r.events = append(r.events, e)
		return
	}
	r.evicted++
	r.events[r.next] = e
	r.next = (r.next + 1) % r.cap
}

// addPending appends a co-relevance pair, dropping the oldest when pendingCap are waiting.
// Dropping reslices from the front; append then moves the window to a new array now and then,
// so the cost per pair is amortised O(1) and the memory at most about twice pendingCap.
func (r *replay) addPending(a, b int32) {
	if len(r.pending) >= r.pendingCap {
		k := len(r.pending) - r.pendingCap + 1
		r.pending = r.pending[k:]
		r.dropped += int64(k)
	}
	r.pending = append(r.pending, [2]int32{min(a, b), max(a, b)})
}

// forget removes the ids in gone from the buffered events (their shown results, judgements and
// query neighbours; an event left with nothing shown is dropped) and from the pending pairs.
// Events are immutable, so changed ones are replaced by copies.
func (r *replay) forget(gone map[int32]bool) {
	isGone := member(gone)
	hit := func(e *event) bool {
		return slices.ContainsFunc(e.Shown, isGone) || slices.ContainsFunc(e.Nbrs, isGone)
	}
	pairGone := func(p [2]int32) bool { return isGone(p[0]) || isGone(p[1]) }
	if slices.ContainsFunc(r.pending, pairGone) {
		// In place: Train takes the pending slice and leaves the buffer a new one.
		r.pending = slices.DeleteFunc(r.pending, pairGone)
	}
	if !slices.ContainsFunc(r.events, hit) {
		return // the common case for a write: nothing to copy
	}
	var kept []*event
	for _, e := range r.ordered() {
		if !hit(e) {
			kept = append(kept, e)
			continue
		}
		c := &event{Query: e.Query}
		for _, id := range e.Nbrs {
			if !gone[id] {
				c.Nbrs = append(c.Nbrs, id)
			}
		}
		for i, id := range e.Shown {
			if !gone[id] {
				c.Shown, c.Relevant = append(c.Shown, id), append(c.Relevant, e.Relevant[i])
			}
		}
		if len(c.Shown) > 0 {
			kept = append(kept, c)
		}
	}
	r.events, r.next = kept, 0
}

// ordered returns the events oldest first.
func (r *replay) ordered() []*event {
	return append(append([]*event(nil), r.events[r.next:]...), r.events[:r.next]...)
}

// Feedback records which of the results shown for a query were relevant: relevant[i] judges
// shown[i]. q must be the query as searched (same vector and exclusions), so that it joins the
// graph with the same neighbours. The event goes into the replay buffer, where Train learns from
// it, and every two results judged relevant together become a feedback edge of the GNN's graph
// (unless Config.FeedbackDegree < 0) when Train next runs. Feedback does not change rankings
// until then.
func (s *Index) Feedback(q Query, shown []int, relevant []bool) error {
	if len(shown) == 0 {
		return fmt.Errorf("search: Feedback with no shown results")
	}
	if len(relevant) != len(shown) {
		return fmt.Errorf("search: Feedback: %d judgements for %d shown results; relevant[i] judges shown[i]", len(relevant), len(shown))
	}
	nc, err := s.numCandidates(q, 1)
	if err != nil {
		return err
	}
	excl, err := s.checkQuery(q, s.Len())
	if err != nil {
		return err
	}
	cands, err := s.candidates(q.Vector, excl, nc)
	if err != nil {
		return err
	}
	n := len(s.emb)
	s.mu.RUnlock()
	seen := make(map[int]bool, len(shown))
	ev := &event{Query: sparsify(normalize(q.Vector)), Nbrs: queryNeighbours(cands, s.cfg.QueryDegree),
		Shown: make([]int32, len(shown)), Relevant: append([]bool(nil), relevant...)}
	for i, id := range shown {
		switch {
		case id < 0 || id >= n:
			return fmt.Errorf("search: Feedback: shown[%d] = %d is not an id of the index (ids 0..%d)", i, id, n-1)
		case seen[id]:
			return fmt.Errorf("search: Feedback: shown[%d] = %d is listed twice", i, id)
		case s.ix.Deleted(id):
			return fmt.Errorf("search: Feedback: shown[%d] = %d is a deleted vector, which is never shown", i, id)
		}
		seen[id] = true
		ev.Shown[i] = int32(id)
	}
	s.bufMu.Lock()
	defer s.bufMu.Unlock()
	s.buf.push(ev)
	if s.cfg.FeedbackDegree > 0 {
		for i, a := range ev.Shown {
			for j := i + 1; j < len(ev.Shown); j++ {
				if relevant[i] && relevant[j] {
					s.buf.addPending(a, ev.Shown[j])
				}
			}
		}
	}
	return nil
}

// applyEdges returns fb with the edges added in both directions (copy-on-write: changed rows are
// new slices) and the nodes whose lists changed. A node keeps its degree newest neighbours;
// an edge already present moves to the newest position.
func applyEdges(fb [][]int32, edges [][2]int32, degree int) ([][]int32, []int) {
	if len(edges) == 0 || degree <= 0 {
		return fb, nil
	}
	out := append([][]int32(nil), fb...)
	fresh := map[int32]bool{}
	var changed []int
	add := func(a, b int32) {
		if !fresh[a] {
			fresh[a] = true
			out[a] = append([]int32(nil), out[a]...)
			changed = append(changed, int(a))
		}
		row := out[a]
		for i, x := range row {
			if x == b {
				row = append(row[:i], row[i+1:]...)
				break
			}
		}
		row = append(row, b)
		if len(row) > degree {
			row = append(row[:0], row[len(row)-degree:]...)
		}
		out[a] = row
	}
	for _, e := range edges {
		add(e[0], e[1])
		add(e[1], e[0])
	}
	return out, changed
}

// Stats describes the index and the feedback it holds. Every structure that grows with calls
// is bounded: the replay buffer by Config.BufferSize events, the pending pairs by
// Config.PendingEdges, each node's feedback list by Config.FeedbackDegree, and deleted ids are
// reused by Add; what the bounds dropped is counted here (since the index was created or
// loaded).
type Stats struct {
	Len           int   // ids handed out, deleted ones included
	Live          int   // vectors not deleted
	Deleted       int   // deleted ids, which Add reuses
	Events        int   // events in the replay buffer
	Trainable     int   // of them, events with both a relevant and an irrelevant result
	TotalEvents   int64 // events ever received
	EvictedEvents int64 // events dropped from the full replay buffer, oldest first
	FeedbackEdges int   // directed feedback edges in the GNN's graph
	PendingEdges  int   // co-relevance pairs waiting for the next Train
	DroppedEdges  int64 // co-relevance pairs dropped before a Train applied them, oldest first
	Steps         int64 // optimiser steps taken
}

// Stats returns counts of the index and its feedback state.
func (s *Index) Stats() Stats {
	s.bufMu.Lock()
	st := Stats{Events: len(s.buf.events), TotalEvents: s.buf.total, PendingEdges: len(s.buf.pending),
		EvictedEvents: s.buf.evicted, DroppedEdges: s.buf.dropped}
	for _, e := range s.buf.events {
		if e.trainable() {
			st.Trainable++
		}
	}
	s.bufMu.Unlock()
	s.mu.RLock()
	for _, r := range s.fb {
		st.FeedbackEdges += len(r)
	}
	s.mu.RUnlock()
	st.Steps = s.steps.Load()
	st.Len, st.Live = s.ix.Len(), s.ix.Live()
	st.Deleted = st.Len - st.Live
	return st
}
