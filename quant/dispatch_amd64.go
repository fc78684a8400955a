//go:build amd64 && !noasm

package quant

import (
	"os"

	"golang.org/x/sys/cpu"
)

// useF16C selects the F16C conversion kernels, once, at package initialisation: the CPU must
// have F16C and AVX (x/sys/cpu reports AVX only when the OS saves the YMM state).
// GOGNN_ASM=generic forces the pure Go conversions, as it does for package ops/asm.
// useAVX2 likewise selects the AVX2 and FMA kernels of MatMulInt8.
var (
	useF16C = cpu.X86.HasAVX && cpu.X86.HasF16C && os.Getenv("GOGNN_ASM") != "generic"
	useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && os.Getenv("GOGNN_ASM") != "generic"
)

// backend names the kernels in use, for tests and benchmarks.
func backend() string {
	switch {
	case useF16C && useAVX2:
		return "f16c+avx2"
	case useF16C:
		return "f16c"
	}
	return "generic"
}

func toFloat16(dst []uint16, src []float32) {
	if !useF16C {
		toFloat16Ref(dst, src)
		return
	}
	n := len(src) &^ 7
	if n > 0 {
		toFloat16F16C(dst, src)
	}
	toFloat16Ref(dst[n:], src[n:])
}

func fromFloat16(dst []float32, src []uint16) {
	if !useF16C {
		fromFloat16Ref(dst, src)
		return
	}
	n := len(src) &^ 7
	if n > 0 {
		fromFloat16F16C(dst, src)
	}
	fromFloat16Ref(dst[n:], src[n:])
}

// matMulInt8 runs MatMulInt8's tiles of 4 rows by 16 or 8 columns, then 1 row by 16 or 8, in
// assembly; the last out%8 columns take the reference loop. in >= 1.
func matMulInt8(x []float32, n, in int, q []int8, scales []float32, out int, y []float32) {
	if !useAVX2 {
		matMulInt8Ref(x, in, q, scales, out, y, 0, n, 0, out)
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
		matMulInt8Ref(x, in, q, scales, out, y, 0, n, c8, out)
	}
}
