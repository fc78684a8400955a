package search

import (
	"fmt"
	"math"
	"math/rand/v2"
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
// Add, Delete and Update do not wait for the steps nor for the recomputation of the embeddings
// (at 100,000 vectors about a second): both run on copies of the graph's tables as they were
// when Train began, and the nodes whose inputs the writes changed meanwhile are embedded again
// with the new weights before the swap, so the result is exact (TestTrainDuringWrites). The
// work runs as SetBackground says: by default on GOMAXPROCS-1 goroutines.
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
		// The weights stay: only the nodes whose feedback lists changed are embedded again.
		st.Refreshed, _ = s.reembed(s.w, fb, pending, changed, nil)
		return st, nil
	}

	saved := s.saveParams()
	var lossSum float64
	learn := func(feats []sparseVec, nbrs, fb [][]int32) error {
		if testHookLearn != nil {
			testHookLearn()
		}
		for step := 0; step < s.cfg.Steps; step++ {
			s.bg.yield()
			batch := sampleEvents(pool, s.cfg.BatchSize, s.rng)
			loss, pairs, err := s.step(batch, feats, nbrs, fb)
			if err != nil {
				return fmt.Errorf("search: Train step %d: %w", step, err)
			}
			lossSum += loss
			st.Pairs += pairs
			st.Steps++
		}
		return nil
	}
	n, err := s.reembed(nil, fb, pending, nil, learn)
	if err != nil {
		s.restoreParams(saved)
		return TrainStats{}, err
	}
	st.Loss = lossSum / float64(st.Steps)
	st.Refreshed = n
	return st, nil
}

// reembed computes new embeddings with the feedback graph fb (s.fb with the pairs pending
// added) and publishes them with the weights, returning the number of embeddings computed.
// With learn nil the weights are w and only the nodes ids are embedded again (the others keep
// theirs); otherwise learn first changes the parameters (learnMu held), the weights are their
// snapshot, and every live node is embedded.
//
// trainMu is held on entry and on return, but released while learn runs and the nodes are
// embedded, so that writes go on: that work reads copies of the tables as they are on entry (a
// write replaces rows, never writes through one), and the nodes whose inputs the writes changed
// meanwhile are embedded again with the new weights once the lock is back. Pending pairs of ids
// deleted meanwhile are dropped, as Delete drops them from the buffer. When learn fails the
// pending pairs go back to the buffer and nothing is published.
func (s *Index) reembed(w *weights, fb [][]int32, pending [][2]int32, ids []int, learn func(feats []sparseVec, nbrs, fb [][]int32) error) (int, error) {
	feats, nbrs := slices.Clone(s.feats), slices.Clone(s.nbrs)
	if len(fb) > 0 && len(s.fb) > 0 && &fb[0] == &s.fb[0] {
		fb = slices.Clone(fb) // writes replace rows of s.fb in place
	}
	var emb [][]float32
	if learn == nil {
		emb = slices.Clone(s.emb)
	} else {
		ids = s.liveIDs()
		emb = make([][]float32, len(feats))
	}
	bg := s.bg
	s.during, s.duringGone = map[int]bool{}, map[int32]bool{}
	s.trainMu.Unlock()
	var err error
	if learn != nil {
		bg.run(1, func(int) { err = learn(feats, nbrs, fb) })
		w = snapshot(s.params, s.dim, s.cfg.Hidden)
	}
	if err == nil {
		w.embedRowsOn(bg.run, bg.workers(), bg.yielder(), emb, ids, feats, nbrs, fb)
	}
	s.trainMu.Lock()

	dirty, gone := s.during, s.duringGone
	s.during, s.duringGone = nil, nil
	keep := dropGone(pending, gone)
	if err != nil {
		s.bufMu.Lock()
		s.buf.pending = append(keep, s.buf.pending...)
		s.bufMu.Unlock()
		return 0, err
	}
	if len(dirty)+len(gone) == 0 && len(s.feats) == len(feats) {
		s.publish(w, fb, emb)
		return len(ids), nil
	}
	// Catch up with the writes made meanwhile: while many nodes need embedding again, embed
	// them without trainMu as above (writes go on and are caught up with in turn), so that the
	// writes wait, and the requests share the CPU, only for the last few.
	done := len(ids)
	allGone := map[int32]bool{}
	for round := 0; ; round++ {
		for id := range gone {
			allGone[id] = true
			dirty[int(id)] = true
		}
		keep = dropGone(pending, allGone)
		fbNow, _ := applyEdges(s.fb, keep, s.cfg.FeedbackDegree)
		n := len(s.feats)
		emb = grow(emb, n)
		for j := range n {
			if j >= len(fb) || !slices.Equal(fb[j], fbNow[j]) {
				dirty[j] = true
			}
		}
		redo := make([]int, 0, len(dirty))
		for id := range dirty {
			if s.ix.Deleted(id) {
				emb[id] = nil
			} else {
				redo = append(redo, id)
			}
		}
		slices.Sort(redo)
		done += len(redo)
		if len(redo) <= catchUpRows || round == catchUpRounds {
			w.embedRows(emb, redo, s.feats, s.nbrs, fbNow)
			s.publish(w, fbNow, emb)
			return done, nil
		}
		feats, nbrs, fb = slices.Clone(s.feats), slices.Clone(s.nbrs), slices.Clone(fbNow)
		s.during, s.duringGone = map[int]bool{}, map[int32]bool{}
		s.trainMu.Unlock()
		w.embedRowsOn(bg.run, bg.workers(), bg.yielder(), emb, redo, feats, nbrs, fb)
		s.trainMu.Lock()
		dirty, gone = s.during, s.duringGone
		s.during, s.duringGone = nil, nil
	}
}

// Train catches up with the writes made while it re-embedded in at most catchUpRounds rounds
// without trainMu, until at most catchUpRows nodes are left to embed under it (a variable for
// tests, which lower it to exercise the rounds). Each round embeds the nodes the writes of the
// round before changed, a shrinking set under a steady stream of writes, so a few more rounds
// leave fewer rows to embed while writes wait: 128 rows are a few milliseconds at dimension 128.
var catchUpRows = 128

const catchUpRounds = 8

// dropGone returns the pairs of pending without an id in gone, in a new slice.
func dropGone(pending [][2]int32, gone map[int32]bool) [][2]int32 {
	keep := pending[:0:0]
	for _, p := range pending {
		if !gone[p[0]] && !gone[p[1]] {
			keep = append(keep, p)
		}
	}
	return keep
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

// testHookLearn, when set (by tests), is called by Train before its optimiser steps, with
// trainMu released.
var testHookLearn func()
