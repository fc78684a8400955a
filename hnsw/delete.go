package hnsw

import (
	"fmt"
	"slices"
	"sync/atomic"
)

// Delete tombstones id: it is never returned by Search again, but keeps its id (ids stay dense)
// and its stored vector. The graph is repaired so recall does not erode. On every layer of id,
// each node u whose list holds id rebuilds its list from its other live neighbours and id's live
// neighbours: Algorithm 4 of Malkov & Yashunin with keepPrunedConnections, the heuristic picking
// a diverse subset and the closest of the candidates it pruned filling the list to its capacity
// (2*M on layer 0, M above). Then id's own lists are cleared, so no edge leads to or from a
// tombstone, and no search spends its ef on one. When id is the entry point, a live node on the
// highest layer replaces it.
//
// Why fill to capacity (variants compared while choosing, on one build): after deleting 10% of
// 100,000 x 128 hard vectors (cosine, recall@10 about 0.5 at ef 100) and updating another 10%
// (an Update unlinks as Delete does), repairs that kept each list at its former size left
// recall@10 0.017 to 0.026 below indexes built fresh from the remaining vectors at ef 40 and 100
// (deletes alone: within 0.005; at 20,000 the mean degree matched the fresh index's). Keeping the
// old neighbours and only filling the freed slot was worse (0.03 below); adding the result of a
// search from u (ef 2*M) to the candidates still left 0.015, and of a search at efConstruction
// came within 0.007 but made deleting 35 times slower. Filling to capacity gave recall at or
// above the fresh indexes' at ef 10 to 100, deleting about 3 times slower than keeping the size,
// at the price of a higher mean degree on the repaired nodes, so a search at the same ef
// computes more distances (experiments/search -churn measures recall and degree;
// TestChurnRecall is the small version).
//
// The first Delete builds a reverse index of the lists (one int32 per edge, kept up to date by
// later Adds), so that finding the nodes that point to id costs its in-degree. In-neighbours are
// repaired in increasing id order, so the outcome does not depend on how that index was built.
//
// Once the index is owned (Own), Delete returns an error: delete through the owner.
func (ix *Index) Delete(id int) error {
	if err := ix.checkUnowned("Delete"); err != nil {
		return err
	}
	return ix.delete(id)
}

func (ix *Index) delete(id int) error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	if n := ix.Len(); id < 0 || id >= n {
		return fmt.Errorf("hnsw: Delete: id %d out of range [0, %d)", id, n)
	}
	d := int32(id)
	if ix.isDeleted(d) {
		return fmt.Errorf("hnsw: Delete: id %d is already deleted", id)
	}
	ix.unlink(d)
	return nil
}

// unlink tombstones the live node d and removes every edge to and from it, repairing its
// in-neighbours (writeMu held).
func (ix *Index) unlink(d int32) {
	if ix.rev == nil {
		ix.buildRev()
	}
	atomic.StoreUint32(&ix.deleted[d], 1)
	ix.nDel.Add(1)
	if entry, _ := ix.loadTop(); entry == d {
		e, l := ix.newEntry(d)
		ix.storeTop(e, l)
	}
	level := int(ix.levels[d])
	var outs, ins []int32
	for l := level; l >= 0; l-- {
		outs = outs[:0]
		ix.w.links = ix.readLinks(d, l, ix.w.links)
		for _, x := range ix.w.links {
			if !ix.isDeleted(x) {
				outs = append(outs, x)
			}
		}
		ins = append(ins[:0], ix.rev[d][l]...)
		slices.Sort(ins)
		for _, u := range ins {
			ix.repair(u, d, l, outs)
		}
		ix.setLinks(d, l, nil)
	}
}

// repair rebuilds u's list on layer l without d, from u's other live neighbours and outs (d's
// live neighbours): all of them when they fit, else the heuristic's choice filled to capacity.
func (ix *Index) repair(u, d int32, l int, outs []int32) {
	uv := ix.vec(u)
	c := ix.tmp[:0]
	m := ix.cfg.Metric
	ix.w.links = ix.readLinks(u, l, ix.w.links)
	for _, x := range ix.w.links {
		if x != d && !ix.isDeleted(x) && !hasID(c, x) {
			c = append(c, cand{distance(m, uv, ix.vec(x)), x})
		}
	}
	for _, x := range outs {
		if x != u && !hasID(c, x) {
			c = append(c, cand{distance(m, uv, ix.vec(x)), x})
		}
	}
	sortCands(c)
	ix.tmp = c
	if mx := ix.maxLinks(l); len(c) > mx {
		c = ix.heuristicFill(c, mx, mx)
	}
	ix.setLinks(u, l, c)
}

// newEntry returns the entry point that replaces the deleted d: d's first live neighbour on its
// top layer when there is one (it is on that layer too), else the live node with the highest
// level, lowest id first; -1 when no node is live.
func (ix *Index) newEntry(d int32) (int32, int) {
	top := int(ix.levels[d])
	for _, x := range ix.readLinks(d, top, ix.w.links) {
		if !ix.isDeleted(x) {
			return x, top
		}
	}
	best, bl := int32(-1), -1
	n := ix.Len()
	for i := 0; i < n; i++ {
		if l := int(ix.levels[i]); l > bl && !ix.isDeleted(int32(i)) {
			best, bl = int32(i), l
		}
	}
	return best, max(bl, 0)
}

// buildRev builds the reverse lists from the forward ones.
func (ix *Index) buildRev() {
	n := ix.Len()
	ix.rev = make([][][]int32, n)
	for i := 0; i < n; i++ {
		ix.rev[i] = make([][]int32, int(ix.levels[i])+1)
	}
	var buf []int32
	for u := 0; u < n; u++ {
		for l := 0; l <= int(ix.levels[u]); l++ {
			buf = ix.readLinks(int32(u), l, buf)
			for _, x := range buf {
				ix.rev[x][l] = append(ix.rev[x][l], int32(u))
			}
		}
	}
}
