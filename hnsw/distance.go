package hnsw

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/gnnlab/gognn/internal/vecmath"
)

// l2F32 returns the squared Euclidean distance sum_i (a_i - b_i)^2; len(b) must be >= len(a).
// It is vecmath.L2Squared, a SIMD kernel (AVX-512 or AVX2+FMA, chosen at start-up; pure Go with
// -tags noasm) that sums the squared differences directly: computing |a|^2 + |b|^2 - 2 a.b
// with the dot kernel would cancel catastrophically for near neighbours, exactly the distances
// that matter. Like dotF32, the result is the same run after run on one machine and may differ
// in the last bits across backends.
func l2F32(a, b []float32) float32 { return vecmath.L2Squared(a, b) }

// dotF32 returns the inner product sum_i a_i b_i; len(b) must be >= len(a). It is vecmath.Dot,
// a SIMD kernel (AVX-512 or AVX2+FMA, chosen at start-up; pure Go with -tags noasm) that splits
// the sum over several accumulators with fused multiply-adds: the result is the same on every
// machine using the same backend, and may differ in the last bits across backends.
func dotF32(a, b []float32) float32 { return vecmath.Dot(a, b) }

// distance returns the metric's distance between a and b (see Metric).
func distance(m Metric, a, b []float32) float32 {
	if m == L2 {
		return l2F32(a, b)
	}
	d := dotF32(a, b)
	if m == Cosine {
		return 1 - d
	}
	return -d
}

// maxSqNorm bounds |v|^2 so that every distance between accepted vectors is finite in float32:
// |a-b|^2 <= (|a|+|b|)^2 <= 4 max|v|^2 and |a.b| <= |a||b|.
const maxSqNorm = math.MaxFloat32 / 4

// checkVector reports an error naming what (and index when >= 0) unless every element of v is
// finite and |v|^2 <= maxSqNorm; it returns |v|^2, summed as vecmath.SquaredNorm does.
func checkVector(v []float32, what string, index int) (float64, error) {
	if index >= 0 {
		what = fmt.Sprintf("%s %d", what, index)
	}
	var sq float64
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return 0, fmt.Errorf("hnsw: %s has %v at position %d; vectors must be finite", what, x, i)
		}
		sq += float64(x) * float64(x)
	}
	if sq > maxSqNorm {
		return 0, fmt.Errorf("hnsw: %s has squared norm %.3g > %.3g, distances would overflow float32; rescale the data", what, sq, maxSqNorm)
	}
	return sq, nil
}

// prepare checks v (what names it in errors) and returns the vector the index works with: a copy
// of v, normalised to unit length for Cosine. dst is reused when it has the capacity.
func prepare(m Metric, dim int, v []float32, what string, dst []float32) ([]float32, error) {
	if len(v) != dim {
		return nil, fmt.Errorf("hnsw: %s has dimension %d, index dimension is %d", what, len(v), dim)
	}
	sq, err := checkVector(v, what, -1)
	if err != nil {
		return nil, err
	}
	if m == Cosine && sq == 0 {
		return nil, fmt.Errorf("hnsw: %s is the zero vector, which has no cosine distance", what)
	}
	if cap(dst) < dim {
		dst = make([]float32, dim)
	}
	dst = dst[:dim]
	copy(dst, v)
	if m == Cosine {
		// The normalisation search uses for its queries too, so both give the same bits.
		vecmath.Normalize(dst, v, sq)
	}
	return dst, nil
}

// Exact returns the exact k nearest neighbours in base of every query, by brute force (the
// ground truth an index is measured against; vecio.GroundTruth): a flat nq x k slice (row q at
// [q*k, (q+1)*k)) of base ids sorted by distance, ties by smaller id, as written to .ivecs
// files. base and queries are row-major with dimension dim. Distances are the metric's,
// computed in float64:
//
//	L2            sum_i (a_i - b_i)^2
//	Cosine        1 - a.b / (|a| |b|)   (zero vectors are an error)
//	InnerProduct  -a.b
//
// Queries are split over GOMAXPROCS goroutines; each row is computed by one goroutine in a fixed
// order, so the output does not depend on the number of threads.
func Exact(base, queries []float32, dim, k int, metric Metric) ([]int32, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("hnsw: Exact: dim = %d, want >= 1", dim)
	}
	if len(base)%dim != 0 || len(queries)%dim != 0 {
		return nil, fmt.Errorf("hnsw: Exact: %d base and %d query elements are not whole %d-dimensional vectors", len(base), len(queries), dim)
	}
	nb, nq := len(base)/dim, len(queries)/dim
	if k <= 0 || k > nb {
		return nil, fmt.Errorf("hnsw: Exact: k = %d, want 1 <= k <= %d (the number of base vectors)", k, nb)
	}
	if nb > math.MaxInt32 {
		return nil, fmt.Errorf("hnsw: Exact: %d base vectors do not fit int32 ids", nb)
	}
	if metric != L2 && metric != Cosine && metric != InnerProduct {
		return nil, fmt.Errorf("hnsw: Exact: unknown metric %v", metric)
	}
	for _, s := range []struct {
		name string
		v    []float32
	}{{"base", base}, {"queries", queries}} {
		for i, x := range s.v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("hnsw: Exact: %s vector %d has %v at position %d; vectors must be finite", s.name, i/dim, x, i%dim)
			}
		}
	}
	var bnorm, qnorm []float64
	if metric == Cosine {
		var err error
		if bnorm, err = exactNorms(base, dim, "base"); err != nil {
			return nil, err
		}
		if qnorm, err = exactNorms(queries, dim, "query"); err != nil {
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
			h := make(maxHeapOf[float64], 0, k+1)
			for q := w; q < nq; q += workers {
				qv := queries[q*dim : (q+1)*dim]
				h = h[:0]
				for i := 0; i < nb; i++ {
					bv := base[i*dim : (i+1)*dim]
					var d float64
					switch metric {
					case L2:
						for j, x := range qv {
							t := float64(x) - float64(bv[j])
							d += t * t
						}
					default:
						for j, x := range qv {
							d += float64(x) * float64(bv[j])
						}
						if metric == Cosine {
							d = 1 - d/(qnorm[q]*bnorm[i])
						} else {
							d = -d
						}
					}
					h.offer(item[float64]{d, int32(i)}, k)
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

// exactNorms returns the norms of the dim-dimensional rows of v (what names them in errors).
func exactNorms(v []float32, dim int, what string) ([]float64, error) {
	n := make([]float64, len(v)/dim)
	for i := range n {
		s := vecmath.SquaredNorm(v[i*dim : (i+1)*dim])
		if s == 0 {
			return nil, fmt.Errorf("hnsw: Exact: %s vector %d is zero, which has no cosine distance", what, i)
		}
		n[i] = math.Sqrt(s)
	}
	return n, nil
}
