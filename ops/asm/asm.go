package asm

import "github.com/gnnlab/gognn/internal/kernels"

// Each function below is one call of the kernel of the same name in internal/kernels, which
// checks the arguments, dispatches to the backend in use and holds the reference loop.

// AxpyF32 computes y[i] += alpha*x[i] for i < len(x). Panics if len(y) < len(x).
func AxpyF32(alpha float32, x, y []float32) { kernels.AxpyF32(alpha, x, y) }

// AxpyF64 computes y[i] += alpha*x[i] for i < len(x). Panics if len(y) < len(x).
func AxpyF64(alpha float64, x, y []float64) { kernels.AxpyF64(alpha, x, y) }

// DotF32 returns sum_i x[i]*y[i] over i < len(x). Panics if len(y) < len(x).
func DotF32(x, y []float32) float32 { return kernels.DotF32(x, y) }

// DotF64 returns sum_i x[i]*y[i] over i < len(x). Panics if len(y) < len(x).
func DotF64(x, y []float64) float64 { return kernels.DotF64(x, y) }

// L2SquaredF32 returns the squared Euclidean distance sum_i (x[i]-y[i])^2 over i < len(x).
// Panics if len(y) < len(x). The differences are exact as computed in float32; the squares are
// summed with fused multiply-adds over several accumulators (see the package comment).
func L2SquaredF32(x, y []float32) float32 { return kernels.L2SquaredF32(x, y) }

// ScaleF32 computes x[i] *= alpha.
func ScaleF32(alpha float32, x []float32) { kernels.ScaleF32(alpha, x) }

// ScaleF64 computes x[i] *= alpha.
func ScaleF64(alpha float64, x []float64) { kernels.ScaleF64(alpha, x) }

// GatherSumF32 sets y[j] = sum_k alpha[k] * x[int(rows[k])*width + j] for 0 <= j < width
// (alpha == nil means every alpha[k] is 1). With no rows, y[:width] is zeroed.
// Panics if len(y) < width, if alpha != nil && len(alpha) < len(rows), or if any row index is
// negative or (row+1)*width > len(x).
func GatherSumF32(y []float32, x []float32, width int, rows []int32, alpha []float32) {
	kernels.GatherSumF32(y, x, width, rows, alpha)
}

// GatherSumF64 sets y[j] = sum_k alpha[k] * x[int(rows[k])*width + j] for 0 <= j < width
// (alpha == nil means every alpha[k] is 1). With no rows, y[:width] is zeroed.
// Panics if len(y) < width, if alpha != nil && len(alpha) < len(rows), or if any row index is
// negative or (row+1)*width > len(x).
func GatherSumF64(y []float64, x []float64, width int, rows []int32, alpha []float64) {
	kernels.GatherSumF64(y, x, width, rows, alpha)
}

// GatherMaxF32 sets y[j] = max_k x[int(rows[k])*width + j] and arg[j] = base + int32(k) for the
// first k attaining the maximum (strict > comparison, so ties keep the earlier k; a NaN in x
// never wins: y[j] is NaN, with arg[j] = base, only if every value is NaN).
// With no rows, y[:width] = 0 and arg[:width] = -1. Panics if len(y) < width,
// len(arg) < width, or if any row index is negative or (row+1)*width > len(x).
func GatherMaxF32(y []float32, arg []int32, x []float32, width int, rows []int32, base int32) {
	kernels.GatherMaxF32(y, arg, x, width, rows, base)
}

// GatherMaxF64 sets y[j] = max_k x[int(rows[k])*width + j] and arg[j] = base + int32(k) for the
// first k attaining the maximum (strict > comparison, so ties keep the earlier k; a NaN in x
// never wins: y[j] is NaN, with arg[j] = base, only if every value is NaN).
// With no rows, y[:width] = 0 and arg[:width] = -1. Panics if len(y) < width,
// len(arg) < width, or if any row index is negative or (row+1)*width > len(x).
func GatherMaxF64(y []float64, arg []int32, x []float64, width int, rows []int32, base int32) {
	kernels.GatherMaxF64(y, arg, x, width, rows, base)
}

// GATSoftmax8F32 is the attention softmax of one node over its in-edges for 8 heads: for edge
// k (from source rows[k]) and head h, with logit l = LeakyReLU(src[8*rows[k]+h] + dst[h]) of
// negative slope slope, it sets y[8k+h] = e^(l - m_h) / sum_k' e^(l' - m_h), m_h the head's
// largest logit. A NaN logit makes its head NaN; a head whose largest logit is +Inf is NaN, as
// in torch.softmax. With no rows it does nothing. Panics if len(dst) < 8, len(y) < 8*len(rows)
// or a row index is negative or past len(src)/8. The AVX-512 backend uses the AVX2 kernel.
func GATSoftmax8F32(y, src, dst []float32, rows []int32, slope float32) {
	kernels.GATSoftmax8F32(y, src, dst, rows, slope)
}

// GatherSumHeads8F32 is GatherSumF32 with one weight per head, for heads of 8 channels: it
// sets y[8h+j] = sum_k alpha[k*heads+h] * x[int(rows[k])*width + 8h + j] for h < heads and
// j < 8 (GAT's aggregation of one node). With no rows, y[:8*heads] is zeroed. Panics if heads
// < 0, width < 8*heads, len(y) < 8*heads, len(alpha) < heads*len(rows), or a row index is
// negative or (row+1)*width > len(x). The AVX-512 backend uses the AVX2 kernel.
func GatherSumHeads8F32(y, x []float32, width int, rows []int32, alpha []float32, heads int) {
	kernels.GatherSumHeads8F32(y, x, width, rows, alpha, heads)
}

// PrefetchF32 asks the CPU to bring the cache lines of x into L1 (PREFETCHT0) without waiting
// for them; it does nothing without the assembly backend. hnsw calls it for the vectors its
// search will read next, the SGEMM driver for its next panels.
func PrefetchF32(x []float32) { kernels.PrefetchF32(x) }

// Backend reports the kernel set in use: "avx512", "avx2" or "generic".
func Backend() string { return kernels.Backend() }
