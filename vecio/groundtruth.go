package vecio

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gnnlab/gognn/hnsw"
)

// GroundTruth returns the exact k nearest neighbours in base of every query, by brute force: a
// flat nq x k slice (row q at [q*k, (q+1)*k)) of base ids sorted by distance, ties by smaller id,
// as written to .ivecs files. base and queries are row-major with dimension dim. Distances are
// those of package hnsw, computed in float64:
//
//	hnsw.L2            sum_i (a_i - b_i)^2
//	hnsw.Cosine        1 - a.b / (|a| |b|)   (zero vectors are an error)
//	hnsw.InnerProduct  -a.b
//
// Queries are split over GOMAXPROCS goroutines; each row is computed by one goroutine in a fixed
// order, so the output does not depend on the number of threads.
func GroundTruth(base, queries []float32, dim, k int, metric hnsw.Metric) ([]int32, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("vecio: GroundTruth: dim = %d, want >= 1", dim)
	}
	if len(base)%dim != 0 || len(queries)%dim != 0 {
		return nil, fmt.Errorf("vecio: GroundTruth: %d base and %d query elements are not whole %d-dimensional vectors", len(base), len(queries), dim)
	}
	nb, nq := len(base)/dim, len(queries)/dim
	if k <= 0 || k > nb {
		return nil, fmt.Errorf("vecio: GroundTruth: k = %d, want 1 <= k <= %d (the number of base vectors)", k, nb)
	}
	if nb > math.MaxInt32 {
		return nil, fmt.Errorf("vecio: GroundTruth: %d base vectors do not fit int32 ids", nb)
	}
	if metric != hnsw.L2 && metric != hnsw.Cosine && metric != hnsw.InnerProduct {
		return nil, fmt.Errorf("vecio: GroundTruth: unknown metric %v", metric)
	}
	for _, s := range []struct {
		name string
		v    []float32
	}{{"base", base}, {"queries", queries}} {
		for i, x := range s.v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("vecio: GroundTruth: %s vector %d has %v at position %d; vectors must be finite", s.name, i/dim, x, i%dim)
			}
		}
	}
	var bnorm, qnorm []float64
	if metric == hnsw.Cosine {
		var err error
		if bnorm, err = norms(base, dim, "base"); err != nil {
			return nil, err
		}
		if qnorm, err = norms(queries, dim, "query"); err != nil {
			return nil, err
		}
	}
	out := make([]int32, nq*k)
	workers := min(runtime.GOMAXPROCS(0), nq)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			h := make(gtHeap, 0, k+1)
			for q := w; q < nq; q += workers {
				qv := queries[q*dim : (q+1)*dim]
				h = h[:0]
				for i := 0; i < nb; i++ {
					bv := base[i*dim : (i+1)*dim]
					var d float64
					switch metric {
					case hnsw.L2:
						for j, x := range qv {
							t := float64(x) - float64(bv[j])
							d += t * t
						}
					default:
						for j, x := range qv {
							d += float64(x) * float64(bv[j])
						}
						if metric == hnsw.Cosine {
							d = 1 - d/(qnorm[q]*bnorm[i])
						} else {
							d = -d
						}
					}
					h.offer(gtItem{d, int32(i)}, k)
				}
				row := out[q*k : (q+1)*k]
				for j := k - 1; j >= 0; j-- {
					row[j] = h.pop().id
				}
			}
		}(w)
	}
	wg.Wait()
	return out, nil
}

func norms(v []float32, dim int, what string) ([]float64, error) {
	n := make([]float64, len(v)/dim)
	for i := range n {
		var s float64
		for _, x := range v[i*dim : (i+1)*dim] {
			s += float64(x) * float64(x)
		}
		if s == 0 {
			return nil, fmt.Errorf("vecio: GroundTruth: %s vector %d is zero, which has no cosine distance", what, i)
		}
		n[i] = math.Sqrt(s)
	}
	return n, nil
}

type gtItem struct {
	d  float64
	id int32
}

func (a gtItem) worse(b gtItem) bool { return a.d > b.d || (a.d == b.d && a.id > b.id) }

// gtHeap is a max-heap (worst on top) of the best k items seen.
type gtHeap []gtItem

func (h *gtHeap) offer(x gtItem, k int) {
	if len(*h) == k {
		if !(*h)[0].worse(x) {
			return
		}
		h.pop()
	}
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].worse(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *gtHeap) pop() gtItem {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].worse(s[l]) {
			m = r
		}
		if !s[m].worse(s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// Recall returns recall@k averaged over queries: for query q, the fraction of the true k nearest
// neighbours truth[q*width : q*width+k] that appear among found[q][:k]. truth is a ground-truth
// table with width >= k ids per query (as from GroundTruth or ReadIvecs); found[q] lists the ids
// returned for query q, closest first (fewer than k count as misses).
func Recall(truth []int32, width int, found [][]int, k int) (float64, error) {
	if width <= 0 || len(truth)%width != 0 {
		return 0, fmt.Errorf("vecio: Recall: %d truth ids are not rows of width %d", len(truth), width)
	}
	if k <= 0 || k > width {
		return 0, fmt.Errorf("vecio: Recall: k = %d, want 1 <= k <= %d (the ground-truth width)", k, width)
	}
	if nq := len(truth) / width; nq != len(found) {
		return 0, fmt.Errorf("vecio: Recall: ground truth has %d queries, results have %d", nq, len(found))
	}
	if len(found) == 0 {
		return 0, fmt.Errorf("vecio: Recall: no queries")
	}
	hits := 0
	for q, f := range found {
		t := truth[q*width : q*width+k]
		for _, id := range f[:min(k, len(f))] {
			for _, x := range t {
				if int(x) == id {
					hits++
					break
				}
			}
		}
	}
	return float64(hits) / float64(k*len(found)), nil
}
