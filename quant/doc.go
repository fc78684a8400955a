// Package quant converts float32 weights to the compact encodings of model files and back:
// IEEE 754 half precision, and symmetric INT8 with one scale per output channel.
//
// # Half precision
//
// ToFloat16 and FromFloat16 convert whole slices between float32 and the bits of IEEE 754
// binary16 (1 sign bit, 5 exponent bits with bias 15, 10 fraction bits), as
// github.com/x448/float16 does one value at a time, which is the reference: round to nearest,
// ties to even; subnormal halves (down to 2^-24) kept, smaller magnitudes rounded to ±0 (with
// their sign); finite values of magnitude 65520 or more, beyond the largest half 65504 plus half
// a step, become ±Inf; ±Inf stay infinite and a NaN stays a NaN (made quiet, sign and the top
// fraction bits kept). Float16Overflow finds values that would silently become infinite.
//
// # INT8
//
// A weight matrix W of shape (rows, cols), row-major, multiplies features as y = x·W (the
// convention of Gorgonia and of this framework's Linear layer), so output channel c is column c.
// QuantizeInt8 stores each column with its own scale,
//
//	scale_c = max_r |W[r,c]| / 127
//	q[r,c]  = clamp(round(W[r,c] / scale_c), -127, 127)    rounding half to even
//	W[r,c] ≈ q[r,c] · scale_c                               (DequantizeInt8)
//
// so that |q·scale − W| <= scale_c/2 for every element. The code -128 is never produced, which
// keeps the range symmetric. A column whose largest magnitude is below MinInt8Range has scale 0
// and all-zero codes: its scale would be subnormal and lose the bound.
//
// MatMulInt8 computes y = x·dequant(q) without materialising the float matrix.
//
// # Kernels
//
// On amd64 the bulk half-precision conversions use the F16C instructions (VCVTPS2PH with
// round-to-nearest-even, VCVTPH2PS), which agree with the reference bit for bit on all 2^32
// float32 inputs and all 2^16 halves, NaN payloads included; MatMulInt8 uses AVX2 and FMA. The
// kernels live with every other kernel of the module in internal/kernels (generated with avo
// by the module ops/asm/_gen: make asm), whose plain Go loops are the reference and the
// fallback, and which chooses them once, at start-up, from the CPU features
// golang.org/x/sys/cpu reports: GOGNN_ASM=generic forces the Go code, as it does for package
// ops/asm, and so does the build tag noasm.
package quant
