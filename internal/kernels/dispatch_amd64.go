//go:build amd64 && !noasm

package kernels

import (
	"os"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// best is the highest backend the CPU and OS support; active the one in use; f16c whether the
// F16C conversions of package quant run. All are set once, at package initialisation, the only
// place the module reads GOGNN_ASM. x/sys/cpu reports AVX, AVX2 and AVX512F only when the OS
// saves the YMM/ZMM and opmask state (XGETBV), so no separate OS check is needed here.
var (
	gognnASM = os.Getenv("GOGNN_ASM")
	best     = detect()
	active   = lowerTo(best, gognnASM)
	hasF16C  = cpu.X86.HasAVX && cpu.X86.HasF16C
	f16c     = hasF16C && allowsF16C(gognnASM)
)

func detect() level {
	// The AVX-512 kernels use AVX512F only (no VL/BW/DQ), plus AVX/FMA in their reductions.
	switch {
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX512F:
		return levelAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return levelAVX2
	}
	return levelGeneric
}

// The kernels are selected by a switch rather than through function variables: a call through
// a variable would make every slice argument escape to the heap, and the branch costs nothing
// once predicted.

func axpyF32(alpha float32, x, y []float32) {
	switch active {
	case levelAVX512:
		axpyF32AVX512(alpha, x, y)
	case levelAVX2:
		axpyF32AVX2(alpha, x, y)
	default:
		axpyRef(alpha, x, y)
	}
}

func axpyF64(alpha float64, x, y []float64) {
	switch active {
	case levelAVX512:
		axpyF64AVX512(alpha, x, y)
	case levelAVX2:
		axpyF64AVX2(alpha, x, y)
	default:
		axpyRef(alpha, x, y)
	}
}

func dotF32(x, y []float32) float32 {
	switch active {
	case levelAVX512:
		return dotF32AVX512(x, y)
	case levelAVX2:
		return dotF32AVX2(x, y)
	}
	return dotRef(x, y)
}

func dotF64(x, y []float64) float64 {
	switch active {
	case levelAVX512:
		return dotF64AVX512(x, y)
	case levelAVX2:
		return dotF64AVX2(x, y)
	}
	return dotRef(x, y)
}

func l2SquaredF32(x, y []float32) float32 {
	switch active {
	case levelAVX512:
		return l2SquaredF32AVX512(x, y)
	case levelAVX2:
		return l2SquaredF32AVX2(x, y)
	}
	return l2SquaredRef(x, y)
}

func scaleF32(alpha float32, x []float32) {
	switch active {
	case levelAVX512:
		scaleF32AVX512(alpha, x)
	case levelAVX2:
		scaleF32AVX2(alpha, x)
	default:
		scaleRef(alpha, x)
	}
}

func scaleF64(alpha float64, x []float64) {
	switch active {
	case levelAVX512:
		scaleF64AVX512(alpha, x)
	case levelAVX2:
		scaleF64AVX2(alpha, x)
	default:
		scaleRef(alpha, x)
	}
}

func gatherSumF32(y, x []float32, width int, rows []int32, alpha []float32) {
	switch active {
	case levelAVX512:
		gatherSumF32AVX512(y, x, width, rows, alpha)
	case levelAVX2:
		gatherSumF32AVX2(y, x, width, rows, alpha)
	default:
		gatherSumRef(y, x, width, rows, alpha)
	}
}

func gatherSumF64(y, x []float64, width int, rows []int32, alpha []float64) {
	switch active {
	case levelAVX512:
		gatherSumF64AVX512(y, x, width, rows, alpha)
	case levelAVX2:
		gatherSumF64AVX2(y, x, width, rows, alpha)
	default:
		gatherSumRef(y, x, width, rows, alpha)
	}
}

func gatherMaxF32(y []float32, arg []int32, x []float32, width int, rows []int32, base int32) {
	switch active {
	case levelAVX512:
		gatherMaxF32AVX512(y, arg, x, width, rows, base)
	case levelAVX2:
		gatherMaxF32AVX2(y, arg, x, width, rows, base)
	default:
		gatherMaxRef(y, arg, x, width, rows, base)
	}
}

func gatherMaxF64(y []float64, arg []int32, x []float64, width int, rows []int32, base int32) {
	switch active {
	case levelAVX512:
		gatherMaxF64AVX512(y, arg, x, width, rows, base)
	case levelAVX2:
		gatherMaxF64AVX2(y, arg, x, width, rows, base)
	default:
		gatherMaxRef(y, arg, x, width, rows, base)
	}
}

// gemmKernelF32 has no AVX-512 version: that backend runs the AVX2 kernel.
func gemmKernelF32(kc int, a []float32, rs, cs int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	if active >= levelAVX2 {
		gemmKernelF32AVX2(kc, a, rs, cs, b, ldb, c, ldc, alpha, beta)
		return
	}
	gemmKernelRef(kc, a, rs, cs, b, ldb, c, ldc, alpha, beta)
}

// gemmStreamF32 streams the tiles when their rows are whole cache lines (see GemmStreamF32),
// and stores them as gemmKernelF32 does otherwise.
func gemmStreamF32(kc int, a []float32, rs, cs int, b []float32, ldb, bstep, np int, c []float32, ldc int, alpha float32, pf []float32) {
	if active >= levelAVX2 && uintptr(unsafe.Pointer(&c[0]))%64 == 0 && ldc%16 == 0 {
		gemmStreamF32AVX2(kc, a, rs, cs, b, ldb, bstep, np, c, ldc, alpha, pf)
		return
	}
	for q := 0; q < np; q++ {
		gemmKernelF32(kc, a, rs, cs, b[q*bstep:], ldb, c[q*GemmNR:], ldc, alpha, 0)
	}
}

func storeFence() {
	if active >= levelAVX2 {
		storeFenceAVX2()
	}
}

func spinCycles(n int) bool {
	if active == levelGeneric {
		return false
	}
	spinCyclesAVX2(n)
	return true
}

func prefetchF32(x []float32) {
	if active >= levelAVX2 {
		prefetchF32AVX2(x)
	}
}

func prefetchL2F32(x []float32) {
	if active >= levelAVX2 {
		prefetchL2F32AVX2(x)
	}
}

// The GAT kernels have no AVX-512 version: that backend runs the AVX2 ones.

func gatSoftmax8F32(y, src, dst []float32, rows []int32, slope float32) {
	if active >= levelAVX2 {
		gatSoftmax8F32AVX2(y, src, dst, rows, slope)
		return
	}
	gatSoftmax8Ref(y, src, dst, rows, slope)
}

func gatherSumHeads8F32(y, x []float32, width int, rows []int32, alpha []float32, heads int) {
	if active >= levelAVX2 {
		gatherSumHeads8F32AVX2(y, x, width, rows, alpha, heads)
		return
	}
	gatherSumHeads8Ref(y, x, width, rows, alpha, heads)
}

// The kernels of package quant. The F16C conversions need AVX and F16C only; the INT8 tiles
// AVX2 and FMA, so they run with the AVX2 backend and above.

func toFloat16(dst []uint16, src []float32) {
	if !f16c {
		ToFloat16Ref(dst, src)
		return
	}
	n := len(src) &^ 7
	if n > 0 {
		toFloat16F16C(dst, src)
	}
	ToFloat16Ref(dst[n:], src[n:])
}

func fromFloat16(dst []float32, src []uint16) {
	if !f16c {
		FromFloat16Ref(dst, src)
		return
	}
	n := len(src) &^ 7
	if n > 0 {
		fromFloat16F16C(dst, src)
	}
	FromFloat16Ref(dst[n:], src[n:])
}

// matMulInt8 runs MatMulInt8's tiles of 4 rows by 16 or 8 columns, then 1 row by 16 or 8, in
// assembly; the last out%8 columns take the reference loop. in >= 1.
func matMulInt8(x []float32, n, in int, q []int8, scales []float32, out int, y []float32) {
	if active < levelAVX2 {
		MatMulInt8Ref(x, in, q, scales, out, y, 0, n, 0, out)
		return
	}
	c16, c8 := out&^15, out&^7
	i := 0
	for ; i+4 <= n; i += 4 {
		xs := x[i*in : (i+4)*in]
		for c := 0; c < c16; c += 16 {
			int8Tile4x16AVX2(y[i*out+c:(i+3)*out+c+16], xs, q[c:], scales[c:c+16], in, out)
		}
		if c16 < c8 {
			int8Tile4x8AVX2(y[i*out+c16:(i+3)*out+c8], xs, q[c16:], scales[c16:c8], in, out)
		}
	}
	for ; i < n; i++ {
		xs := x[i*in : (i+1)*in]
		for c := 0; c < c16; c += 16 {
			int8Tile1x16AVX2(y[i*out+c:i*out+c+16], xs, q[c:], scales[c:c+16], in, out)
		}
		if c16 < c8 {
			int8Tile1x8AVX2(y[i*out+c16:i*out+c8], xs, q[c16:], scales[c16:c8], in, out)
		}
	}
	if c8 < out {
		MatMulInt8Ref(x, in, q, scales, out, y, 0, n, c8, out)
	}
}
