package vecio

import (
	"fmt"

	"github.com/gnnlab/gognn/hnsw"
)

// GroundTruth returns the exact k nearest neighbours in base of every query, by brute force: a
// flat nq x k slice (row q at [q*k, (q+1)*k)) of base ids sorted by distance, ties by smaller id,
// as written to .ivecs files. base and queries are row-major with dimension dim. It is
// hnsw.Exact, whose documentation gives the distances (computed in float64) and the errors.
func GroundTruth(base, queries []float32, dim, k int, metric hnsw.Metric) ([]int32, error) {
	gt, err := hnsw.Exact(base, queries, dim, k, metric)
	if err != nil {
		return nil, fmt.Errorf("vecio: ground truth: %w", err)
	}
	return gt, nil
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
