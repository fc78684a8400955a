package hnsw

import (
	"fmt"
	"slices"
)

// CheckInvariants verifies the graph's structure: list sizes within capacity, no self-loops or
// duplicates, neighbours live and on the layer, tombstones without edges, the entry point live on
// the top layer, and (once built) the reverse lists matching the forward ones exactly.
func (ix *Index) CheckInvariants() error {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	n := ix.Len()
	entry, top := ix.loadTop()
	live, maxLive := 0, -1
	for i := 0; i < n; i++ {
		if !ix.isDeleted(int32(i)) {
			live++
			maxLive = max(maxLive, int(ix.levels[i]))
		}
	}
	if live != ix.Live() {
		return fmt.Errorf("live count %d, Live() = %d", live, ix.Live())
	}
	if live == 0 {
		if entry != -1 {
			return fmt.Errorf("entry %d with no live node", entry)
		}
	} else if entry < 0 || ix.isDeleted(entry) || int(ix.levels[entry]) != top || top != maxLive {
		return fmt.Errorf("entry %d (level %d, deleted %t), top %d, highest live level %d", entry, ix.levels[max(entry, 0)], entry >= 0 && ix.isDeleted(entry), top, maxLive)
	}
	fwd := map[[3]int32]bool{}
	var buf []int32
	for i := 0; i < n; i++ {
		u := int32(i)
		for l := 0; l <= int(ix.levels[i]); l++ {
			buf = ix.readLinks(u, l, buf)
			if len(buf) > ix.maxLinks(l) {
				return fmt.Errorf("node %d layer %d: %d neighbours > %d", u, l, len(buf), ix.maxLinks(l))
			}
			if ix.isDeleted(u) && len(buf) > 0 {
				return fmt.Errorf("deleted node %d has %d neighbours on layer %d", u, len(buf), l)
			}
			s := slices.Clone(buf)
			slices.Sort(s)
			for j, x := range s {
				switch {
				case x == u:
					return fmt.Errorf("node %d layer %d: self-loop", u, l)
				case j > 0 && s[j-1] == x:
					return fmt.Errorf("node %d layer %d: duplicate neighbour %d", u, l, x)
				case x < 0 || int(x) >= n:
					return fmt.Errorf("node %d layer %d: neighbour %d out of range", u, l, x)
				case int(ix.levels[x]) < l:
					return fmt.Errorf("node %d layer %d: neighbour %d only reaches layer %d", u, l, x, ix.levels[x])
				case ix.isDeleted(x):
					return fmt.Errorf("node %d layer %d: neighbour %d is deleted", u, l, x)
				}
				fwd[[3]int32{u, x, int32(l)}] = true
			}
		}
	}
	if ix.rev == nil {
		return nil
	}
	if len(ix.rev) != n {
		return fmt.Errorf("reverse lists for %d nodes, want %d", len(ix.rev), n)
	}
	count := 0
	for v := range ix.rev {
		for l, r := range ix.rev[v] {
			for _, u := range r {
				if !fwd[[3]int32{u, int32(v), int32(l)}] {
					return fmt.Errorf("reverse list says %d -> %d on layer %d, forward lists do not", u, v, l)
				}
				count++
			}
		}
	}
	if count != len(fwd) {
		return fmt.Errorf("%d reverse entries for %d edges", count, len(fwd))
	}
	return nil
}

// EnableReverse builds the reverse lists, as the first Delete does.
func (ix *Index) EnableReverse() {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	if ix.rev == nil {
		ix.buildRev()
	}
}
