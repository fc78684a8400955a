package kernels

import "fmt"

// AxpyF32 computes y[i] += alpha*x[i] for i < len(x). Panics if len(y) < len(x).
func AxpyF32(alpha float32, x, y []float32) {
	if len(y) < len(x) {
		panicShort("AxpyF32", "y", len(y), "len(x)", len(x))
	}
	if len(x) > 0 {
		axpyF32(alpha, x, y)
	}
}

// AxpyF64 computes y[i] += alpha*x[i] for i < len(x). Panics if len(y) < len(x).
func AxpyF64(alpha float64, x, y []float64) {
	if len(y) < len(x) {
		panicShort("AxpyF64", "y", len(y), "len(x)", len(x))
	}
	if len(x) > 0 {
		axpyF64(alpha, x, y)
	}
}

// DotF32 returns sum_i x[i]*y[i] over i < len(x). Panics if len(y) < len(x).
func DotF32(x, y []float32) float32 {
	if len(y) < len(x) {
		panicShort("DotF32", "y", len(y), "len(x)", len(x))
	}
	if len(x) == 0 {
		return 0
	}
	return dotF32(x, y)
}

// DotF64 returns sum_i x[i]*y[i] over i < len(x). Panics if len(y) < len(x).
func DotF64(x, y []float64) float64 {
	if len(y) < len(x) {
		panicShort("DotF64", "y", len(y), "len(x)", len(x))
	}
	if len(x) == 0 {
		return 0
	}
	return dotF64(x, y)
}

// L2SquaredF32 returns the squared Euclidean distance sum_i (x[i]-y[i])^2 over i < len(x).
// Panics if len(y) < len(x). The differences are exact as computed in float32; the squares are
// summed with fused multiply-adds over several accumulators (see the package comment).
func L2SquaredF32(x, y []float32) float32 {
	if len(y) < len(x) {
		panicShort("L2SquaredF32", "y", len(y), "len(x)", len(x))
	}
	if len(x) == 0 {
		return 0
	}
	return l2SquaredF32(x, y)
}

// ScaleF32 computes x[i] *= alpha.
func ScaleF32(alpha float32, x []float32) {
	if len(x) > 0 {
		scaleF32(alpha, x)
	}
}

// ScaleF64 computes x[i] *= alpha.
func ScaleF64(alpha float64, x []float64) {
	if len(x) > 0 {
		scaleF64(alpha, x)
	}
}

// GatherSumF32 sets y[j] = sum_k alpha[k] * x[int(rows[k])*width + j] for 0 <= j < width
// (alpha == nil means every alpha[k] is 1). With no rows, y[:width] is zeroed.
// Panics if len(y) < width, if alpha != nil && len(alpha) < len(rows), or if any row index is
// negative or (row+1)*width > len(x).
func GatherSumF32(y []float32, x []float32, width int, rows []int32, alpha []float32) {
	checkGather("GatherSumF32", len(y), len(x), width, rows)
	if alpha != nil && len(alpha) < len(rows) {
		panicShort("GatherSumF32", "alpha", len(alpha), "len(rows)", len(rows))
	}
	switch {
	case width == 0:
	case len(rows) == 0:
		clear(y[:width])
	default:
		gatherSumF32(y, x, width, rows, alpha)
	}
}

// GatherSumF64 sets y[j] = sum_k alpha[k] * x[int(rows[k])*width + j] for 0 <= j < width
// (alpha == nil means every alpha[k] is 1). With no rows, y[:width] is zeroed.
// Panics if len(y) < width, if alpha != nil && len(alpha) < len(rows), or if any row index is
// negative or (row+1)*width > len(x).
func GatherSumF64(y []float64, x []float64, width int, rows []int32, alpha []float64) {
	checkGather("GatherSumF64", len(y), len(x), width, rows)
	if alpha != nil && len(alpha) < len(rows) {
		panicShort("GatherSumF64", "alpha", len(alpha), "len(rows)", len(rows))
	}
	switch {
	case width == 0:
	case len(rows) == 0:
		clear(y[:width])
	default:
		gatherSumF64(y, x, width, rows, alpha)
	}
}

// GatherMaxF32 sets y[j] = max_k x[int(rows[k])*width + j] and arg[j] = base + int32(k) for the
// first k attaining the maximum (strict > comparison, so ties keep the earlier k; a NaN in x
// never wins: y[j] is NaN, with arg[j] = base, only if every value is NaN).
// With no rows, y[:width] = 0 and arg[:width] = -1. Panics if len(y) < width,
// len(arg) < width, or if any row index is negative or (row+1)*width > len(x).
func GatherMaxF32(y []float32, arg []int32, x []float32, width int, rows []int32, base int32) {
	checkGather("GatherMaxF32", len(y), len(x), width, rows)
	if len(arg) < width {
		panicShort("GatherMaxF32", "arg", len(arg), "width", width)
	}
	switch {
	case width == 0:
	case len(rows) == 0:
		clear(y[:width])
		fillNegOne(arg[:width])
	default:
		gatherMaxF32(y, arg, x, width, rows, base)
	}
}

// GatherMaxF64 sets y[j] = max_k x[int(rows[k])*width + j] and arg[j] = base + int32(k) for the
// first k attaining the maximum (strict > comparison, so ties keep the earlier k; a NaN in x
// never wins: y[j] is NaN, with arg[j] = base, only if every value is NaN).
// With no rows, y[:width] = 0 and arg[:width] = -1. Panics if len(y) < width,
// len(arg) < width, or if any row index is negative or (row+1)*width > len(x).
func GatherMaxF64(y []float64, arg []int32, x []float64, width int, rows []int32, base int32) {
	checkGather("GatherMaxF64", len(y), len(x), width, rows)
	if len(arg) < width {
		panicShort("GatherMaxF64", "arg", len(arg), "width", width)
	}
	switch {
	case width == 0:
	case len(rows) == 0:
		clear(y[:width])
		fillNegOne(arg[:width])
	default:
		gatherMaxF64(y, arg, x, width, rows, base)
	}
}

// GemmMR and GemmNR are the rows and columns of the C tile GemmKernelF32 computes.
const (
	GemmMR = 6
	GemmNR = 16
)

// GemmKernelF32 is the SGEMM micro-kernel of package blas. With A(r,p) = a[r*rs+p*cs] it sets,
// for r < GemmMR and j < GemmNR,
//
//	c[r*ldc+j] = alpha * sum_{p<kc} A(r,p)*b[p*ldb+j] + beta*c[r*ldc+j]
//
// summing over p in order; beta == 0 does not read c (NaNs there are overwritten). b holds
// GemmNR values per step of p, ldb >= GemmNR apart: a packed panel (ldb = GemmNR) or a row-major
// B in place. A can be packed (rs = 1, cs = GemmMR) or read in place from a row-major matrix
// (rs = lda, cs = 1) or its transpose (rs = 1, cs = lda). Panics if kc, rs or cs is negative,
// ldb or ldc < GemmNR, or a slice is too short for the elements named above. The AVX-512
// backend uses the AVX2 kernel.
func GemmKernelF32(kc int, a []float32, rs, cs int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	checkGemm(kc, a, rs, cs, b, ldb, c, ldc)
	gemmKernelF32(kc, a, rs, cs, b, ldb, c, ldc, alpha, beta)
}

// GemmStreamF32 computes np tiles side by side with beta = 0, for a C written once and not read
// soon: tile q is GemmKernelF32(kc, a, rs, cs, b[q*bstep:], ldb, c[q*GemmNR:], ldc, alpha, 0).
// Where it can it writes C with non-temporal stores, which bypass the caches and skip reading
// C's lines before writing them (a quarter of the memory traffic of X·W when C is larger than
// the caches): when every row of a tile starts on a 64-byte boundary (c's first element and
// 4*ldc multiples of 64), so that it fills one cache line. Otherwise, and without the assembly
// backend, it stores as GemmKernelF32 does. Meanwhile it requests the lines of pf into L1 (the
// SGEMM driver passes the next A panel; pf may be empty). The stores are weakly ordered: call
// StoreFence after the last of them, before another goroutine may read C. Panics if np < 1,
// bstep < 0, or for a tile as GemmKernelF32 does.
func GemmStreamF32(kc int, a []float32, rs, cs int, b []float32, ldb, bstep, np int, c []float32, ldc int, alpha float32, pf []float32) {
	if np < 1 || bstep < 0 {
		panic(fmt.Sprintf("asm.GemmStreamF32: np = %d must be >= 1 and bstep = %d >= 0", np, bstep))
	}
	if last := (np - 1) * bstep; len(b) < last {
		panicShort("GemmStreamF32", "b", len(b), "(np-1)*bstep", last)
	}
	if last := (np - 1) * GemmNR; len(c) < last {
		panicShort("GemmStreamF32", "c", len(c), "(np-1)*GemmNR", last)
	}
	checkGemm(kc, a, rs, cs, b[(np-1)*bstep:], ldb, c[(np-1)*GemmNR:], ldc)
	gemmStreamF32(kc, a, rs, cs, b, ldb, bstep, np, c, ldc, alpha, pf)
}

// StoreFence orders the non-temporal stores of GemmStreamF32 before every later store
// (an SFENCE); without the assembly backend it does nothing.
func StoreFence() { storeFence() }

// GATSoftmax8F32 is the attention softmax of one node over its in-edges for 8 heads: for edge
// k (from source rows[k]) and head h, with logit l = LeakyReLU(src[8*rows[k]+h] + dst[h]) of
// negative slope slope, it sets y[8k+h] = e^(l - m_h) / sum_k' e^(l' - m_h), m_h the head's
// largest logit. A NaN logit makes its head NaN; a head whose largest logit is +Inf is NaN, as
// in torch.softmax. With no rows it does nothing. Panics if len(dst) < 8, len(y) < 8*len(rows)
// or a row index is negative or past len(src)/8. The AVX-512 backend uses the AVX2 kernel.
func GATSoftmax8F32(y, src, dst []float32, rows []int32, slope float32) {
	const fn = "GATSoftmax8F32"
	if len(dst) < 8 {
		panicShort(fn, "dst", len(dst), "heads", 8)
	}
	if len(y) < 8*len(rows) {
		panicShort(fn, "y", len(y), "8*len(rows)", 8*len(rows))
	}
	if len(rows) == 0 {
		return
	}
	checkGather(fn, 8, len(src), 8, rows)
	gatSoftmax8F32(y, src, dst, rows, slope)
}

// GatherSumHeads8F32 is GatherSumF32 with one weight per head, for heads of 8 channels: it
// sets y[8h+j] = sum_k alpha[k*heads+h] * x[int(rows[k])*width + 8h + j] for h < heads and
// j < 8 (GAT's aggregation of one node). With no rows, y[:8*heads] is zeroed. Panics if heads
// < 0, width < 8*heads, len(y) < 8*heads, len(alpha) < heads*len(rows), or a row index is
// negative or (row+1)*width > len(x). The AVX-512 backend uses the AVX2 kernel.
func GatherSumHeads8F32(y, x []float32, width int, rows []int32, alpha []float32, heads int) {
	const fn = "GatherSumHeads8F32"
	if heads < 0 || width < 8*heads {
		panic(fmt.Sprintf("asm.%s: %d heads of 8 do not fit in width %d", fn, heads, width))
	}
	checkGather(fn, width, len(x), width, rows) // y is checked against its 8*heads below
	if len(y) < 8*heads {
		panicShort(fn, "y", len(y), "8*heads", 8*heads)
	}
	if len(alpha) < heads*len(rows) {
		panicShort(fn, "alpha", len(alpha), "heads*len(rows)", heads*len(rows))
	}
	switch {
	case heads == 0:
	case len(rows) == 0:
		clear(y[:8*heads])
	default:
		gatherSumHeads8F32(y, x, width, rows, alpha, heads)
	}
}

// PrefetchF32 asks the CPU to bring the cache lines of x into L1 (PREFETCHT0) without waiting
// for them; it does nothing without the assembly backend. The SGEMM driver calls it for the
// next panels of A and C while the kernel computes the current ones.
func PrefetchF32(x []float32) {
	if len(x) > 0 {
		prefetchF32(x)
	}
}

// PrefetchL2F32 is PrefetchF32 into L2 (PREFETCHT1), for data needed later than the next
// microseconds or too large for L1: the SGEMM driver requests what its next k block packs.
func PrefetchL2F32(x []float32) {
	if len(x) > 0 {
		prefetchL2F32(x)
	}
}

// SpinCycles runs n iterations of a chain of 8 dependent integer additions, about 8n clock
// cycles on any x86-64 core: timing it measures the clock. It returns false, doing nothing,
// without the assembly backend.
func SpinCycles(n int) bool {
	if n <= 0 {
		return n == 0 && active != levelGeneric
	}
	return spinCycles(n)
}

// Backend reports the kernel set in use: "avx512", "avx2" or "generic".
func Backend() string { return active.String() }

// checkGather validates what the gather kernels rely on for memory safety: they read
// x[row*width : (row+1)*width] for every row and write y[:width] without further checks.
func checkGather(fn string, ny, nx, width int, rows []int32) {
	if width < 0 {
		panic(fmt.Sprintf("asm.%s: negative width %d", fn, width))
	}
	if ny < width {
		panicShort(fn, "y", ny, "width", width)
	}
	if width == 0 {
		for k, r := range rows {
			if r < 0 {
				panicRow(fn, k, r, nx, width)
			}
		}
		return
	}
	// row < nx/width is (row+1)*width <= nx without the overflow; a negative row converts to
	// a huge uint and fails the same test.
	limit := uint(nx / width)
	for k, r := range rows {
		if uint(r) >= limit {
			panicRow(fn, k, r, nx, width)
		}
	}
}

func fillNegOne(a []int32) {
	for i := range a {
		a[i] = -1
	}
}

// The panics format their message out of line so the checks stay cheap and allocation-free.

func panicShort(fn, name string, n int, what string, need int) {
	panic(fmt.Sprintf("asm.%s: len(%s) = %d, shorter than %s = %d", fn, name, n, what, need))
}

// checkGemm validates what the SGEMM kernels read and write.
func checkGemm(kc int, a []float32, rs, cs int, b []float32, ldb int, c []float32, ldc int) {
	if kc < 0 || rs < 0 || cs < 0 || ldb < GemmNR || ldc < GemmNR {
		panicGemm(kc, rs, cs, ldb, ldc)
	}
	if kc > 0 && len(b) < (kc-1)*ldb+GemmNR {
		panicShort("GemmKernelF32", "b", len(b), "(kc-1)*ldb+GemmNR", (kc-1)*ldb+GemmNR)
	}
	if len(c) < (GemmMR-1)*ldc+GemmNR {
		panicShort("GemmKernelF32", "c", len(c), "(GemmMR-1)*ldc+GemmNR", (GemmMR-1)*ldc+GemmNR)
	}
	if kc > 0 && len(a) <= (GemmMR-1)*rs+(kc-1)*cs {
		panicShort("GemmKernelF32", "a", len(a), "(GemmMR-1)*rs+(kc-1)*cs+1", (GemmMR-1)*rs+(kc-1)*cs+1)
	}
}

func panicGemm(kc, rs, cs, ldb, ldc int) {
	panic(fmt.Sprintf("asm.GemmKernelF32: kc = %d, rs = %d, cs = %d must be >= 0 and ldb = %d, ldc = %d >= %d", kc, rs, cs, ldb, ldc, GemmNR))
}

func panicRow(fn string, k int, r int32, nx, width int) {
	panic(fmt.Sprintf("asm.%s: rows[%d] = %d out of range: x holds %d rows of width %d", fn, k, r, nx/max(width, 1), width))
}
