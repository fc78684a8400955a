package quant

import (
	"fmt"
	"math"

	"github.com/gnnlab/gognn/internal/kernels"
)

// MinInt8Range is the smallest column maximum |W[:,c]| that QuantizeInt8 gives a nonzero scale:
// 127 times the smallest normal float32, so that every scale is a normal number. Columns below
// it are stored as zeros (their values are all under 1.5e-36 in magnitude).
const MinInt8Range = 127 * 0x1p-126

// QuantizeInt8 quantizes the row-major matrix w of shape (rows, cols) to INT8 with one scale per
// column (output channel): scales[c] = max_r |w[r,c]| / 127 and q[r,c] = round(w[r,c]/scales[c])
// (half to even, clamped to [-127, 127]), so q[r,c]*scales[c] is within scales[c]/2 of
// w[r,c]. A column that is all zero, or whose maximum is below MinInt8Range, gets scale 0 and
// zero codes.
//
// Every value must be finite: QuantizeInt8 panics on a NaN or an infinity, as it does when
// rows or cols is negative or len(w) != rows*cols.
func QuantizeInt8(w []float32, rows, cols int) (q []int8, scales []float32) {
	checkMatrix("QuantizeInt8", "w", len(w), rows, cols)
	scales = make([]float32, cols)
	for r := 0; r < rows; r++ {
		for c, v := range w[r*cols : (r+1)*cols] {
			a := float32(math.Abs(float64(v)))
			if !(a <= math.MaxFloat32) {
				panic(fmt.Sprintf("quant.QuantizeInt8: w[%d,%d] = %v is not finite", r, c, v))
			}
			scales[c] = max(scales[c], a)
		}
	}
	inv := make([]float64, cols)
	for c, m := range scales {
		if m < MinInt8Range {
			scales[c] = 0
			continue
		}
		s := float32(float64(m) / 127)
		// 127*s must stay finite for dequantisation; a scale rounded up from MaxFloat32/127
		// would not. Rounding it down instead leaves the largest value clamped to 127, within
		// a hair of it.
		if float64(s)*127 > math.MaxFloat32 {
			s = math.Nextafter32(s, 0)
		}
		scales[c] = s
		inv[c] = float64(s)
	}
	q = make([]int8, len(w))
	for r := 0; r < rows; r++ {
		row := w[r*cols : (r+1)*cols]
		qr := q[r*cols : (r+1)*cols]
		for c, v := range row {
			if inv[c] == 0 {
				continue
			}
			// The float64 quotient of two float32s rounds to the nearest integer exactly as
			// the real quotient does, so the bound holds without slack.
			x := math.RoundToEven(float64(v) / inv[c])
			qr[c] = int8(max(-127, min(127, x)))
		}
	}
	return q, scales
}

// DequantizeInt8 sets dst[r*cols+c] = float32(q[r*cols+c]) * scales[c], the float32 matrix of
// shape (rows, cols) that q and scales encode (the product is rounded to float32, which can add
// half a unit in the last place to the scales[c]/2 bound of QuantizeInt8). Panics unless
// len(dst) and len(q) are rows*cols and len(scales) is cols.
func DequantizeInt8(dst []float32, q []int8, scales []float32, rows, cols int) {
	checkMatrix("DequantizeInt8", "dst", len(dst), rows, cols)
	checkMatrix("DequantizeInt8", "q", len(q), rows, cols)
	if len(scales) != cols {
		panic(fmt.Sprintf("quant.DequantizeInt8: len(scales) = %d, want cols = %d", len(scales), cols))
	}
	for r := 0; r < rows; r++ {
		qr := q[r*cols : (r+1)*cols]
		dr := dst[r*cols : (r+1)*cols]
		for c, v := range qr {
			dr[c] = float32(v) * scales[c]
		}
	}
}

// MatMulInt8 sets y = x · W for x of shape (n, in) and W = dequant(q, scales) of shape (in, out),
// all row-major: y[i,c] = scales[c] * sum_k x[i,k]*float32(q[k,c]), the sum taken in the order
// of k and scaled once at the end. It agrees with DequantizeInt8 followed by a float32 matrix
// product up to float32 rounding (the assembly kernels use fused multiply-adds).
//
// On CPUs with AVX2 and FMA the work runs in register-tiled kernels (4 rows by 16 columns of y
// held in registers over all of k, each vector of codes converted once per tile); the last
// out%8 columns and other CPUs take the plain Go loop. It runs on the calling goroutine. It
// reads a quarter of the weight bytes of a float32 product, which pays when W does not fit in
// the CPU caches; BenchmarkMatMul compares it with the framework's float32 products.
//
// Panics unless len(x) = n*in, len(q) = in*out, len(scales) = out and len(y) = n*out.
func MatMulInt8(x []float32, n, in int, q []int8, scales []float32, out int, y []float32) {
	checkMatrix("MatMulInt8", "x", len(x), n, in)
	checkMatrix("MatMulInt8", "q", len(q), in, out)
	checkMatrix("MatMulInt8", "y", len(y), n, out)
	if len(scales) != out {
		panic(fmt.Sprintf("quant.MatMulInt8: len(scales) = %d, want out = %d", len(scales), out))
	}
	if in == 0 {
		clear(y)
		return
	}
	kernels.MatMulInt8(x, n, in, q, scales, out, y)
}

// checkMatrix panics unless rows and cols are non-negative and n == rows*cols, computed without
// overflow.
func checkMatrix(fn, name string, n, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("quant.%s: negative shape (%d, %d)", fn, rows, cols))
	}
	if cols != 0 && (rows > math.MaxInt/cols || n != rows*cols) || cols == 0 && n != 0 {
		panic(fmt.Sprintf("quant.%s: len(%s) = %d, want %d x %d", fn, name, n, rows, cols))
	}
}
