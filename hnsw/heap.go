package hnsw

import "slices"

// item is a node with its distance to a query: float32 in the index (cand), float64 in Exact.
// The heaps below serve both, compiled separately for each distance type.
type item[D float32 | float64] struct {
	dist D
	id   int32
}

// cand is a node with its distance to the current query.
type cand = item[float32]

// less orders items by distance, ties by id, so every ordering in the index is total and
// builds are deterministic.
func (a item[D]) less(b item[D]) bool {
	return a.dist < b.dist || (a.dist == b.dist && a.id < b.id)
}

// minHeap pops the closest candidate first (the paper's C).
type minHeap = minHeapOf[float32]

// maxHeap keeps the furthest candidate on top (the paper's W, bounded by ef).
type maxHeap = maxHeapOf[float32]

// minHeapOf and maxHeapOf are minHeap and maxHeap for either distance type.
type minHeapOf[D float32 | float64] []item[D]

func (h *minHeapOf[D]) push(c item[D]) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *minHeapOf[D]) pop() item[D] {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].less(s[l]) {
			m = r
		}
		if !s[m].less(s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

type maxHeapOf[D float32 | float64] []item[D] // see minHeapOf

func (h *maxHeapOf[D]) push(c item[D]) {
	*h = append(*h, c)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s[p].less(s[i]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

// offer keeps the k closest items seen: it pushes c unless the heap holds k items and c is not
// closer than the furthest of them, which it then replaces.
func (h *maxHeapOf[D]) offer(c item[D], k int) {
	if len(*h) == k {
		if !c.less((*h)[0]) {
			return
		}
		h.pop()
	}
	h.push(c)
}

func (h *maxHeapOf[D]) pop() item[D] {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[l].less(s[r]) {
			m = r
		}
		if !s[i].less(s[m]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// sortCands sorts s by distance, ties by id.
func sortCands(s []cand) {
	if len(s) <= 32 {
		for i := 1; i < len(s); i++ {
			for j := i; j > 0 && s[j].less(s[j-1]); j-- {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
		return
	}
	slices.SortFunc(s, func(a, b cand) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
}
