package search

import (
	"fmt"

	"github.com/gnnlab/gognn/hnsw"
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
// edges that feedback has produced and the next Train has not applied yet.
type replay struct {
	cap     int
	events  []*event // ring; when full, next is the oldest
	next    int
	total   int64      // events ever received
	pending [][2]int32 // new feedback edges (a, b), a < b
}

func (r *replay) push(e *event) {
	r.total++
	if len(r.events) < r.cap {
		r.events = append(r.events, e)
		return
	}
	r.events[r.next] = e
	r.next = (r.next + 1) % r.cap
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
	s.mu.RLock()
	n := len(s.emb)
	excl, err := s.checkQuery(q, n)
	var cands []hnsw.Result
	if err == nil {
		cands, err = s.candidates(q.Vector, excl, n)
	}
	s.mu.RUnlock()
	if err != nil {
		return err
	}
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
					b := ev.Shown[j]
					s.buf.pending = append(s.buf.pending, [2]int32{min(a, b), max(a, b)})
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

// Stats describes the feedback the index holds.
type Stats struct {
	Events        int   // events in the replay buffer
	Trainable     int   // of them, events with both a relevant and an irrelevant result
	TotalEvents   int64 // events ever received
	FeedbackEdges int   // directed feedback edges in the GNN's graph
	PendingEdges  int   // co-relevance pairs waiting for the next Train
	Steps         int64 // optimiser steps taken
}

// Stats returns counts of the feedback state.
func (s *Index) Stats() Stats {
	s.bufMu.Lock()
	st := Stats{Events: len(s.buf.events), TotalEvents: s.buf.total, PendingEdges: len(s.buf.pending)}
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
	return st
}
