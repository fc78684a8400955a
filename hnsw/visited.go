package hnsw

// visited marks the nodes seen by one search. A mark equals tag when the node was visited in the
// current search, so clearing costs nothing until the 16-bit tag wraps.
type visited struct {
	mark []uint16
	tag  uint16
}

// reset prepares v for a search over ids < n.
func (v *visited) reset(n int) {
	if len(v.mark) < n {
		v.mark = make([]uint16, n+n/4)
		v.tag = 0
	}
	v.tag++
	if v.tag == 0 {
		clear(v.mark)
		v.tag = 1
	}
}

// visit marks id and reports whether it was unmarked.
func (v *visited) visit(id int32) bool {
	if v.mark[id] == v.tag {
		return false
	}
	v.mark[id] = v.tag
	return true
}

// scratch holds one search's working memory; Search takes it from a pool.
type scratch struct {
	vis   visited
	cands minHeap
	res   maxHeap
	links []int32
	q     []float32
	eps   []cand
}
