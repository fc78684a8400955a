package kernels

import "github.com/x448/float16"

// ToFloat16Ref is the reference conversion to half precision, github.com/x448/float16 one value
// at a time (round to nearest even); len(dst) >= len(src).
func ToFloat16Ref(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float16.Fromfloat32(v).Bits()
	}
}

// FromFloat16Ref is the reference conversion back, exact; len(dst) >= len(src).
func FromFloat16Ref(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = float16.Frombits(h).Float32()
	}
}

// MatMulInt8Ref is the reference MatMulInt8 on rows [i0, i1) and columns [c0, c1) of y; in >= 1.
func MatMulInt8Ref(x []float32, in int, q []int8, scales []float32, out int, y []float32, i0, i1, c0, c1 int) {
	for i := i0; i < i1; i++ {
		yi := y[i*out+c0 : i*out+c1]
		clear(yi)
		for k, a := range x[i*in : (i+1)*in] {
			qk := q[k*out+c0 : k*out+c1]
			qk = qk[:len(yi)]
			for c, v := range qk {
				yi[c] += a * float32(v)
			}
		}
		for c, s := range scales[c0:c1] {
			yi[c] *= s
		}
	}
}
