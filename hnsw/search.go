package hnsw

import (
	"fmt"

	"github.com/gnnlab/gognn/internal/vecmath"
)

// Search returns the k nearest live vectors to q, sorted by distance, ties by id. ef is the size
// of the candidate list on layer 0 (efSearch in the paper): 0 selects Config.EfSearch, and values
// below k are raised to k. Larger ef trades speed for recall. Fewer than k results come back only
// when the index holds fewer than k live vectors (or, rarely, when deletions left part of the
// graph unreachable).
//
// The search is Algorithm 5 of Malkov & Yashunin: a greedy walk (ef = 1) from the entry point
// down to layer 1, then a best-first search on layer 0 keeping the ef closest nodes found.
// Tombstoned nodes may be walked through but are never returned.
func (ix *Index) Search(q []float32, k, ef int) ([]Result, error) {
	if k <= 0 {
		return nil, fmt.Errorf("hnsw: Search: k = %d, want k >= 1", k)
	}
	if ef < 0 || ef > MaxEf {
		return nil, fmt.Errorf("hnsw: Search: ef = %d, want 0 (default %d) or 1 <= ef <= %d", ef, ix.cfg.EfSearch, MaxEf)
	}
	if ef == 0 {
		ef = ix.cfg.EfSearch
	}
	ef = max(ef, k)
	s := ix.pool.Get().(*scratch)
	defer ix.pool.Put(s)
	qv, err := prepare(ix.cfg.Metric, ix.cfg.Dim, q, "Search: query", s.q)
	if err != nil {
		return nil, err
	}
	s.q = qv

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	defer ix.readers.exit(ix.readers.enter())
	entry, top := ix.loadTop()
	if entry < 0 {
		return []Result{}, nil
	}
	ep := cand{distance(ix.cfg.Metric, qv, ix.vec(entry)), entry}
	for l := top; l > 0; l-- {
		ep = ix.greedy(s, qv, ep, l)
	}
	s.eps = append(s.eps[:0], ep)
	ix.searchLayer(s, qv, s.eps, ef, 0)
	w := s.sorted()
	w = w[:min(k, len(w))]
	out := make([]Result, len(w))
	for i, c := range w {
		out[i] = Result{ID: int(c.id), Dist: c.dist}
	}
	return out, nil
}

// greedy walks layer l from ep to a local minimum of the distance to q (Algorithm 2 with ef = 1).
func (ix *Index) greedy(s *scratch, q []float32, ep cand, l int) cand {
	for changed := true; changed; {
		changed = false
		s.links = ix.readLinks(ep.id, l, s.links)
		for _, nb := range s.links {
			c := cand{distance(ix.cfg.Metric, q, ix.vec(nb)), nb}
			if c.less(ep) {
				ep, changed = c, true
			}
		}
	}
	return ep
}

// searchLayer is Algorithm 2: a best-first search of layer l from the entry points eps (with
// their distances to q) that leaves in s.res the ef closest live nodes it found. Candidates are
// expanded closest first until the closest unexpanded one is further than the furthest of ef
// results. Tombstones are expanded but not kept.
func (ix *Index) searchLayer(s *scratch, q []float32, eps []cand, ef, l int) {
	s.vis.reset(len(ix.levels))
	s.cands, s.res = s.cands[:0], s.res[:0]
	for _, e := range eps {
		if !s.vis.visit(e.id) {
			continue
		}
		s.cands.push(e)
		if !ix.isDeleted(e.id) {
			s.res.push(e)
			if len(s.res) > ef {
				s.res.pop()
			}
		}
	}
	m := ix.cfg.Metric
	for len(s.cands) > 0 {
		c := s.cands.pop()
		if len(s.res) >= ef && s.res[0].less(c) {
			break
		}
		s.links = ix.readLinks(c.id, l, s.links)
		// Keep the unvisited neighbours and request their vectors before computing any
		// distance, so that their cache misses overlap instead of stalling one distance each
		// (hnswlib prefetches likewise).
		fresh := s.links[:0]
		for _, nb := range s.links {
			if s.vis.visit(nb) {
				fresh = append(fresh, nb)
				vecmath.Prefetch(ix.vec(nb))
			}
		}
		for _, nb := range fresh {
			x := cand{distance(m, q, ix.vec(nb)), nb}
			if len(s.res) < ef || x.less(s.res[0]) {
				s.cands.push(x)
				if !ix.isDeleted(nb) {
					s.res.push(x)
					if len(s.res) > ef {
						s.res.pop()
					}
				}
			}
		}
	}
}

// sorted sorts the results of searchLayer in place, closest first, and returns them; s.res is no
// longer a heap afterwards.
func (s *scratch) sorted() []cand {
	r := []cand(s.res)
	sortCands(r)
	return r
}
