//go:build !amd64 || noasm

package kernels

// Without the assembly only the generic backend exists.
var best, active = levelGeneric, levelGeneric

var hasF16C, f16c = false, false

func axpyF32(alpha float32, x, y []float32) { axpyRef(alpha, x, y) }
func axpyF64(alpha float64, x, y []float64) { axpyRef(alpha, x, y) }
func dotF32(x, y []float32) float32         { return dotRef(x, y) }
func dotF64(x, y []float64) float64         { return dotRef(x, y) }
func scaleF32(alpha float32, x []float32)   { scaleRef(alpha, x) }
func l2SquaredF32(x, y []float32) float32   { return l2SquaredRef(x, y) }
func scaleF64(alpha float64, x []float64)   { scaleRef(alpha, x) }

func gatherSumF32(y, x []float32, width int, rows []int32, alpha []float32) {
	gatherSumRef(y, x, width, rows, alpha)
}

func gatherSumF64(y, x []float64, width int, rows []int32, alpha []float64) {
	gatherSumRef(y, x, width, rows, alpha)
}

func gatherMaxF32(y []float32, arg []int32, x []float32, width int, rows []int32, base int32) {
	gatherMaxRef(y, arg, x, width, rows, base)
}

func gatherMaxF64(y []float64, arg []int32, x []float64, width int, rows []int32, base int32) {
	gatherMaxRef(y, arg, x, width, rows, base)
}

func gemmKernelF32(kc int, a []float32, rs, cs int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	gemmKernelRef(kc, a, rs, cs, b, ldb, c, ldc, alpha, beta)
}

func gemmStreamF32(kc int, a []float32, rs, cs int, b []float32, ldb, bstep, np int, c []float32, ldc int, alpha float32, _ []float32) {
	gemmStreamRef(kc, a, rs, cs, b, ldb, bstep, np, c, ldc, alpha)
}

func storeFence() {}

func spinCycles(int) bool { return false }

func prefetchF32([]float32) {}

func prefetchL2F32([]float32) {}

func gatSoftmax8F32(y, src, dst []float32, rows []int32, slope float32) {
	gatSoftmax8Ref(y, src, dst, rows, slope)
}

func gatherSumHeads8F32(y, x []float32, width int, rows []int32, alpha []float32, heads int) {
	gatherSumHeads8Ref(y, x, width, rows, alpha, heads)
}

func toFloat16(dst []uint16, src []float32)   { ToFloat16Ref(dst, src) }
func fromFloat16(dst []float32, src []uint16) { FromFloat16Ref(dst, src) }

func matMulInt8(x []float32, n, in int, q []int8, scales []float32, out int, y []float32) {
	MatMulInt8Ref(x, in, q, scales, out, y, 0, n, 0, out)
}
