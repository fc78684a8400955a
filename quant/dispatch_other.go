//go:build !amd64 || noasm

package quant

func backend() string { return "generic" }

func toFloat16(dst []uint16, src []float32)   { toFloat16Ref(dst, src) }
func fromFloat16(dst []float32, src []uint16) { fromFloat16Ref(dst, src) }

func matMulInt8(x []float32, n, in int, q []int8, scales []float32, out int, y []float32) {
	matMulInt8Ref(x, in, q, scales, out, y, 0, n, 0, out)
}
