package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
)

// TrainStats reports one Train call.
type TrainStats struct {
	Steps     int     // optimiser steps (0 when no event has a relevant and an irrelevant result)
	Pairs     int     // (relevant, irrelevant) pairs over all steps
	Loss      float64 // mean loss of the steps, NaN without steps
	NewEdges  int     // co-relevance pairs applied to the feedback graph
	Refreshed int     // corpus embeddings recomputed
}

// Train learns from the feedback received so far. It first adds the pending co-relevance pairs
// to the feedback graph, then makes Config.Steps Adam steps, each on Config.BatchSize events
// drawn uniformly from the replay buffer's events that have both a relevant and an irrelevant
// result, minimising the pairwise logistic loss
//
//	L = mean over events e, relevant p, irrelevant n of e:  softplus((s(q_e, n) - s(q_e, p)) / τ)
//
// with s the cosine similarity of GNN embeddings (the query embedded as in Search): relevant
// results are pulled towards their query and shown-but-irrelevant ones pushed away. Finally it
// recomputes the corpus embeddings (all of them after weight updates; only the nodes whose
// feedback neighbours changed otherwise) and swaps the new model in; searches running meanwhile
// use the previous one. On error the model is left as it was.
//
// Add, Delete and Update wait only for the steps, not for the recomputation of every embedding
// that follows them (at 100,000 vectors the longest part): that runs on the tables as they were
// after the steps, and the nodes whose inputs the writes changed meanwhile are embedded again
// with the new weights before the swap, so the result is exact (TestTrainDuringWrites).
func (s *Index) Train() (TrainStats, error) {
	s.learnMu.Lock()
	defer s.learnMu.Unlock()
	s.trainMu.Lock()
	defer s.trainMu.Unlock()
	s.bufMu.Lock()
	pending := s.buf.pending
	s.buf.pending = nil
	var pool []*event
	for _, e := range s.buf.ordered() {
		if e.trainable() {
			pool = append(pool, e)
		}
	}
	s.bufMu.Unlock()

	fb, changed := applyEdges(s.fb, pending, s.cfg.FeedbackDegree)
	st := TrainStats{NewEdges: len(pending), Loss: math.NaN()}
	if len(pool) == 0 {
		emb := append([][]float32(nil), s.emb...)
		s.w.embedRows(emb, changed, s.feats, s.nbrs, fb)
		s.publish(s.w, fb, emb)
		st.Refreshed = len(changed)
		return st, nil
	}

	saved := s.saveParams()
	var lossSum float64
	for step := 0; step < s.cfg.Steps; step++ {
		batch := sampleEvents(pool, s.cfg.BatchSize, s.rng)
		loss, pairs, err := s.step(batch, fb)
		if err != nil {
			s.restoreParams(saved)
			s.bufMu.Lock()
			s.buf.pending = append(pending, s.buf.pending...)
			s.bufMu.Unlock()
			return TrainStats{}, fmt.Errorf("search: Train step %d: %w", step, err)
		}
		lossSum += loss
		st.Pairs += pairs
		st.Steps++
	}
	st.Loss = lossSum / float64(st.Steps)
	st.Refreshed = s.reembed(snapshot(s.params, s.dim, s.cfg.Hidden), fb, pending)
	return st, nil
}

// reembed embeds every live node with the new weights w and the feedback graph fb (s.fb with
// the pairs pending added) and publishes them, returning the number of embeddings computed.
// trainMu is held on entry and on return, but released while the corpus is embedded, so that
// writes go on: the published tables are copy-on-write, so the ones read here stay as they
// are, and the nodes whose inputs the writes changed meanwhile are embedded again with w once
// the lock is back. Pending pairs of ids deleted meanwhile are dropped, as Delete drops them
// from the buffer.
func (s *Index) reembed(w *weights, fb [][]int32, pending [][2]int32) int {
	feats, nbrs, live := s.feats, s.nbrs, s.liveIDs()
	s.during, s.duringGone = map[int]bool{}, map[int32]bool{}
	s.trainMu.Unlock()
	emb := make([][]float32, len(feats))
	// All cores but one, so that searches served meanwhile keep a core (on 2 cores, at half the
	// saturated rate of experiments/load, the median search latency fell from 21 to 3 ms).
	w.embedRowsOn(max(1, runtime.GOMAXPROCS(0)-1), emb, live, feats, nbrs, fb)
	s.trainMu.Lock()

	dirty, gone := s.during, s.duringGone
	s.during, s.duringGone = nil, nil
	if len(dirty)+len(gone) == 0 && len(s.feats) == len(feats) {
		s.publish(w, fb, emb)
		return len(live)
	}
	keep := pending[:0:0]
	for _, p := range pending {
		if !gone[p[0]] && !gone[p[1]] {
			keep = append(keep, p)
		}
	}
	fbNow, _ := applyEdges(s.fb, keep, s.cfg.FeedbackDegree)
	n := len(s.feats)
	out := make([][]float32, n)
	copy(out, emb)
	for id := range gone {
		dirty[int(id)] = true
	}
	for j := range n {
		if j >= len(fb) || !slices.Equal(fb[j], fbNow[j]) {
			dirty[j] = true
		}
	}
	redo := make([]int, 0, len(dirty))
	for id := range dirty {
		if s.ix.Deleted(id) {
			out[id] = nil
		} else {
			redo = append(redo, id)
		}
	}
	slices.Sort(redo)
	w.embedRows(out, redo, s.feats, s.nbrs, fbNow)
	s.publish(w, fbNow, out)
	return len(live) + len(redo)
}

// publish swaps in a new serving state.
func (s *Index) publish(w *weights, fb [][]int32, emb [][]float32) {
	s.mu.Lock()
	s.w, s.fb, s.emb = w, fb, emb
	s.mu.Unlock()
}

// paramState is a copy of the training state for rolling back a failed Train.
type paramState struct {
	data, m, v [][]float32
	t          int64
	rng        []byte
}

func (s *Index) saveParams() paramState {
	st := paramState{t: s.adamT}
	for _, p := range s.params {
		st.data = append(st.data, append([]float32(nil), p.Data...))
		st.m = append(st.m, append([]float32(nil), p.M...))
		st.v = append(st.v, append([]float32(nil), p.V...))
	}
	st.rng, _ = s.pcg.MarshalBinary()
	return st
}

func (s *Index) restoreParams(st paramState) {
	for i, p := range s.params {
		copy(p.Data, st.data[i])
		copy(p.M, st.m[i])
		copy(p.V, st.v[i])
	}
	s.adamT = st.t
	s.steps.Store(st.t)
	_ = s.pcg.UnmarshalBinary(st.rng)
}

// sampleEvents draws k events from pool without replacement (all of them when there are at
// most k), in a random order.
func sampleEvents(pool []*event, k int, rng *rand.Rand) []*event {
	if len(pool) <= k {
		out := append([]*event(nil), pool...)
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	}
	idx := seq(len(pool))
	out := make([]*event, k)
	for i := range out {
		j := i + rng.IntN(len(idx)-i)
		idx[i], idx[j] = idx[j], idx[i]
		out[i] = pool[idx[i]]
	}
	return out
}
