package quant

import (
	"fmt"
	"math"

	"github.com/gnnlab/gognn/internal/kernels"
)

// MaxFloat16 is the largest finite half-precision value.
const MaxFloat16 = 65504

// float16Limit is the smallest magnitude that rounds to infinity: MaxFloat16 plus half of its
// step of 32, where the tie rounds to the even neighbour, which is infinity.
const float16Limit = 65520

// ToFloat16 sets dst[i] to the IEEE 754 half-precision bits of src[i] for i < len(src), rounding
// to nearest with ties to even (see the package comment for subnormals, overflow, Inf and NaN).
// Panics if len(dst) < len(src).
func ToFloat16(dst []uint16, src []float32) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("quant.ToFloat16: len(dst) = %d, shorter than len(src) = %d", len(dst), len(src)))
	}
	kernels.ToFloat16(dst, src)
}

// FromFloat16 sets dst[i] to the float32 value of the half-precision bits src[i] for
// i < len(src); every half is exactly representable, so this is exact. Panics if
// len(dst) < len(src).
func FromFloat16(dst []float32, src []uint16) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("quant.FromFloat16: len(dst) = %d, shorter than len(src) = %d", len(dst), len(src)))
	}
	kernels.FromFloat16(dst, src)
}

// Float16Overflow returns the index of the first finite value in src whose half-precision
// rounding is infinite (magnitude 65520 or more), or -1 if there is none. Infinities and NaNs
// in src are not overflows: they convert to themselves.
func Float16Overflow(src []float32) int {
	for i, v := range src {
		if a := math.Abs(float64(v)); a >= float16Limit && !math.IsInf(a, 1) {
			return i
		}
	}
	return -1
}
