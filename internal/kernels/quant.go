package kernels

// ToFloat16 sets dst[i] to the half-precision bits of src[i], rounding to nearest even, as
// ToFloat16Ref does. The caller (quant.ToFloat16) guarantees len(dst) >= len(src).
func ToFloat16(dst []uint16, src []float32) { toFloat16(dst[:len(src)], src) }

// FromFloat16 sets dst[i] to the float32 value of the half src[i], exactly. The caller
// (quant.FromFloat16) guarantees len(dst) >= len(src).
func FromFloat16(dst []float32, src []uint16) { fromFloat16(dst[:len(src)], src) }

// MatMulInt8 sets y[i*out+c] = scales[c] * sum_k x[i*in+k]*float32(q[k*out+c]) for i < n,
// c < out, the sum in the order of k (with fused multiply-adds in the AVX2 kernels, which keep
// tiles of 4 rows by 16 columns in registers). The caller (quant.MatMulInt8) checks the
// shapes: len(x) = n*in, len(q) = in*out, len(scales) = out, len(y) = n*out, and in >= 1.
func MatMulInt8(x []float32, n, in int, q []int8, scales []float32, out int, y []float32) {
	matMulInt8(x, n, in, q, scales, out, y)
}
