package vecio

import (
	"math"
	"runtime"
	"slices"
	"sort"
	"testing"

	"github.com/gnnlab/gognn/hnsw"
)

// naive returns the k nearest by sorting all distances (float64), ties by id.
func naive(base, q []float32, dim, k int, m hnsw.Metric) []int32 {
	n := len(base) / dim
	type it struct {
		d  float64
		id int
	}
	all := make([]it, n)
	var qn float64
	for _, x := range q {
		qn += float64(x) * float64(x)
	}
	for i := range all {
		b := base[i*dim : (i+1)*dim]
		var l2, dot, bn float64
		for j := range b {
			d := float64(q[j]) - float64(b[j])
			l2 += d * d
			dot += float64(q[j]) * float64(b[j])
			bn += float64(b[j]) * float64(b[j])
		}
		switch m {
		case hnsw.L2:
			all[i] = it{l2, i}
		case hnsw.Cosine:
			all[i] = it{1 - dot/math.Sqrt(qn*bn), i}
		default:
			all[i] = it{-dot, i}
		}
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].d < all[b].d })
	out := make([]int32, k)
	for i := range out {
		out[i] = int32(all[i].id)
	}
	return out
}

func TestGroundTruth(t *testing.T) {
	const dim, k = 7, 9
	all := Clustered(530, dim, 6, 0.5, 3)
	base, queries := all[:500*dim], all[500*dim:]
	// Exact duplicates make ties, which must be broken by id.
	copy(base[10*dim:11*dim], base[3*dim:4*dim])
	copy(base[20*dim:21*dim], base[3*dim:4*dim])
	copy(queries[:dim], base[3*dim:4*dim])
	for _, m := range []hnsw.Metric{hnsw.L2, hnsw.Cosine, hnsw.InnerProduct} {
		gt, err := GroundTruth(base, queries, dim, k, m)
		if err != nil {
			t.Fatal(err)
		}
		for q := 0; q < 30; q++ {
			want := naive(base, queries[q*dim:(q+1)*dim], dim, k, m)
			if got := gt[q*k : (q+1)*k]; !slices.Equal(got, want) {
				t.Fatalf("%v query %d: %v, want %v", m, q, got, want)
			}
		}
		if m == hnsw.L2 && !slices.Equal(gt[:3], []int32{3, 10, 20}) {
			t.Errorf("duplicates not ordered by id: %v", gt[:3])
		}
		// The same answer with one thread.
		old := runtime.GOMAXPROCS(1)
		gt1, _ := GroundTruth(base, queries, dim, k, m)
		runtime.GOMAXPROCS(old)
		if !slices.Equal(gt, gt1) {
			t.Errorf("%v: output depends on GOMAXPROCS", m)
		}
	}
}

func TestGroundTruthErrors(t *testing.T) {
	v := []float32{1, 2, 3, 4}
	for _, c := range []struct {
		base, q  []float32
		dim, k   int
		m        hnsw.Metric
		scenario string
	}{
		{v, v, 0, 1, hnsw.L2, "dim 0"},
		{v, v, 3, 1, hnsw.L2, "ragged"},
		{v, v, 2, 0, hnsw.L2, "k 0"},
		{v, v, 2, 3, hnsw.L2, "k > n"},
		{v, v, 2, 1, 9, "metric"},
		{[]float32{0, 0, 1, 1}, v, 2, 1, hnsw.Cosine, "zero vector"},
		{[]float32{float32(math.NaN()), 0}, v, 2, 1, hnsw.L2, "NaN"},
	} {
		if _, err := GroundTruth(c.base, c.q, c.dim, c.k, c.m); err == nil {
			t.Errorf("%s: no error", c.scenario)
		}
	}
}

func TestRecall(t *testing.T) {
	truth := []int32{1, 2, 3, 9, 4, 5, 6, 9}
	r, err := Recall(truth, 4, [][]int{{3, 2, 7}, {4, 5, 6}}, 3)
	if err != nil || math.Abs(r-5.0/6) > 1e-12 {
		t.Errorf("Recall = %v, %v; want 5/6", r, err)
	}
	if _, err := Recall(truth, 4, [][]int{{1}}, 3); err == nil {
		t.Error("query count mismatch: no error")
	}
	if _, err := Recall(truth, 4, [][]int{{1}, {2}}, 5); err == nil {
		t.Error("k > width: no error")
	}
}

func TestClustered(t *testing.T) {
	a := Clustered(100, 5, 3, 0.1, 9)
	b := Clustered(120, 5, 3, 0.1, 9)
	if len(a) != 500 || !slices.Equal(a, b[:500]) {
		t.Fatal("Clustered(n) is not a prefix of Clustered(n+m) with the same seed")
	}
	if slices.Equal(a, Clustered(100, 5, 3, 0.1, 10)[:500]) {
		t.Error("different seeds give the same data")
	}
	// Points are within a few spreads of one of 3 centres: the distance to the nearest other
	// point is small compared with the spread of the centres.
	far := 0
	for i := 0; i < 100; i++ {
		best := math.Inf(1)
		for j := 0; j < 100; j++ {
			if i != j {
				var d float64
				for c := 0; c < 5; c++ {
					x := float64(a[i*5+c] - a[j*5+c])
					d += x * x
				}
				best = min(best, d)
			}
		}
		if best > 0.5 {
			far++
		}
	}
	if far > 0 {
		t.Errorf("%d points far from every other: not clustered", far)
	}
	if Clustered(0, 5, 3, 1, 1) != nil || Clustered(5, 0, 3, 1, 1) != nil || len(Clustered(4, 2, 0, 1, 1)) != 8 {
		t.Error("degenerate arguments")
	}
}
