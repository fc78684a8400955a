package hnsw

import (
	"fmt"
	"math"

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
