package asm

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

func panicRow(fn string, k int, r int32, nx, width int) {
	panic(fmt.Sprintf("asm.%s: rows[%d] = %d out of range: x holds %d rows of width %d", fn, k, r, nx/max(width, 1), width))
}
