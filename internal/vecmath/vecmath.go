// Package vecmath holds the vector distances of packages hnsw and search, on the module's SIMD
// kernels (internal/kernels: AVX-512 or AVX2+FMA, chosen at start-up; pure Go with -tags noasm
// or GOGNN_ASM=generic), and the one cosine normalisation both packages use, so that a query
// and the stored copy of the same vector are bit-identical.
package vecmath

import (
	"math"

	"github.com/gnnlab/gognn/internal/kernels"
)

// Dot returns the inner product sum_i a_i b_i over i < len(a); len(b) must be >= len(a). The
// kernel splits the sum over several accumulators with fused multiply-adds: the result is the
// same run after run on one backend and may differ in the last bits across backends.
func Dot(a, b []float32) float32 { return kernels.DotF32(a, b) }

// L2Squared returns the squared Euclidean distance sum_i (a_i - b_i)^2 over i < len(a); len(b)
// must be >= len(a). It sums the squared differences directly: |a|^2 + |b|^2 - 2 a.b would
// cancel catastrophically for near neighbours, exactly the distances that matter.
func L2Squared(a, b []float32) float32 { return kernels.L2SquaredF32(a, b) }

// Prefetch asks the CPU to bring v's cache lines into L1 without waiting for them (nothing
// without the assembly).
func Prefetch(v []float32) { kernels.PrefetchF32(v) }

// SquaredNorm returns |v|^2 = sum_i v_i^2, summed in float64 in the order of i.
func SquaredNorm(v []float32) float64 {
	var sq float64
	for _, x := range v {
		sq += float64(x) * float64(x)
	}
	return sq
}

// Normalize sets dst[i] = float32(float64(v[i]) * (1/sqrt(sq))) for i < len(v): v scaled to unit
// length when sq = SquaredNorm(v) (callers that already have the sum pass it). len(dst) must be
// >= len(v); dst may be v. With sq == 0 the result is NaN or ±Inf: callers reject zero vectors.
func Normalize(dst, v []float32, sq float64) {
	inv := 1 / math.Sqrt(sq)
	dst = dst[:len(v)]
	for i, x := range v {
		dst[i] = float32(float64(x) * inv)
	}
}
