package kernels

import "math"

// The plain Go loops below define what every kernel computes. They are the test oracle and the
// generic backend. Callers have checked the arguments (see asm.go).

type float interface{ ~float32 | ~float64 }

// axpyRef: y[i] += alpha*x[i] for i < len(x).
func axpyRef[T float](alpha T, x, y []T) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// dotRef: sum_i x[i]*y[i], added in order.
func dotRef[T float](x, y []T) T {
	y = y[:len(x)]
	var s T
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

// l2SquaredRef: sum_i (x[i]-y[i])^2, added in order.
func l2SquaredRef[T float](x, y []T) T {
	y = y[:len(x)]
	var s T
	for i, v := range x {
		d := v - y[i]
		s += d * d
	}
	return s
}

// scaleRef: x[i] *= alpha.
func scaleRef[T float](alpha T, x []T) {
	for i := range x {
		x[i] *= alpha
	}
}

// gatherSumRef: y[j] = sum_k alpha[k] * x[rows[k]*width+j] (alpha nil: all ones), the terms
// added in the order of k.
func gatherSumRef[T float](y, x []T, width int, rows []int32, alpha []T) {
	y = y[:width]
	clear(y)
	for k, r := range rows {
		row := x[int(r)*width : int(r)*width+width]
		if alpha == nil {
			for j, v := range row {
				y[j] += v
			}
			continue
		}
		a := alpha[k]
		for j, v := range row {
			y[j] += a * v
		}
	}
}

// gatherMaxRef: y[j] = max_k x[rows[k]*width+j], arg[j] = base+k for the first k attaining it. A
// value wins when it is greater than the current maximum, or when the current maximum is NaN
// and it is not: NaN never beats a number, and a lane is NaN only if all its values are. No rows:
// y = 0, arg = -1.
func gatherMaxRef[T float](y []T, arg []int32, x []T, width int, rows []int32, base int32) {
	y, arg = y[:width], arg[:width]
	if len(rows) == 0 {
		clear(y)
		for j := range arg {
			arg[j] = -1
		}
		return
	}
	r := int(rows[0])
	copy(y, x[r*width:r*width+width])
	for j := range arg {
		arg[j] = base
	}
	for k := 1; k < len(rows); k++ {
		r := int(rows[k])
		for j, v := range x[r*width : r*width+width] {
			if m := y[j]; v > m || (m != m && v == v) {
				y[j] = v
				arg[j] = base + int32(k)
			}
		}
	}
}

// gemmKernelRef: the GemmKernelF32 tile, summing over p in order (no fused multiply-add
// promised: the compiler may or may not fuse). It works row by row with the 16 sums in local
// variables, which the compiler keeps in registers: several times faster than an array.
func gemmKernelRef(kc int, a []float32, rs, cs int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	for r := 0; r < GemmMR; r++ {
		var s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15 float32
		var ar []float32
		if kc > 0 { // with kc == 0, a may hold nothing
			ar = a[r*rs:]
		}
		for p := 0; p < kc; p++ {
			v := ar[p*cs]
			bp := (*[GemmNR]float32)(b[p*ldb:])
			s0 += v * bp[0]
			s1 += v * bp[1]
			s2 += v * bp[2]
			s3 += v * bp[3]
			s4 += v * bp[4]
			s5 += v * bp[5]
			s6 += v * bp[6]
			s7 += v * bp[7]
			s8 += v * bp[8]
			s9 += v * bp[9]
			s10 += v * bp[10]
			s11 += v * bp[11]
			s12 += v * bp[12]
			s13 += v * bp[13]
			s14 += v * bp[14]
			s15 += v * bp[15]
		}
		sums := [GemmNR]float32{s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15}
		cr := (*[GemmNR]float32)(c[r*ldc:])
		if beta == 0 {
			for j, v := range sums {
				cr[j] = alpha * v
			}
			continue
		}
		for j, v := range sums {
			cr[j] = alpha*v + beta*cr[j]
		}
	}
}

// gemmStreamRef: the GemmStreamF32 tiles, one gemmKernelRef each with beta = 0.
func gemmStreamRef(kc int, a []float32, rs, cs int, b []float32, ldb, bstep, np int, c []float32, ldc int, alpha float32) {
	for q := 0; q < np; q++ {
		gemmKernelRef(kc, a, rs, cs, b[q*bstep:], ldb, c[q*GemmNR:], ldc, alpha, 0)
	}
}

// gatSoftmax8Ref is GATSoftmax8F32 in Go: logits and their maximum, then e^(logit - max) and
// its sum, then the division, per head; the passes and the exp are the kernel's.
func gatSoftmax8Ref(y, src, dst []float32, rows []int32, slope float32) {
	d := (*[8]float32)(dst)
	inf := float32(math.Inf(-1))
	m := [8]float32{inf, inf, inf, inf, inf, inf, inf, inf}
	for k, r := range rows {
		s := (*[8]float32)(src[int(r)*8:])
		o := (*[8]float32)(y[k*8:])
		for h := range o {
			v := s[h] + d[h]
			if v < 0 {
				v *= slope
			}
			o[h] = v
			if v > m[h] || v != v {
				m[h] = v
			}
		}
	}
	var sum [8]float32
	for k := range rows {
		o := (*[8]float32)(y[k*8:])
		for h := range o {
			v := expNonPositive(o[h] - m[h])
			o[h] = v
			sum[h] += v
		}
	}
	for h := range sum {
		sum[h] = 1 / sum[h]
	}
	for k := range rows {
		o := (*[8]float32)(y[k*8:])
		for h := range o {
			o[h] *= sum[h]
		}
	}
}

// expNonPositive is e^x for x <= 0 (a softmax's shifted logits) without calls: k = round(x
// log2 e) through the float32 magic number 1.5*2^23, r = x - k ln2 in two parts, a degree-6
// polynomial for e^r, times 2^k. NaN gives NaN; below -87 it gives 0. Within 2 ulp of e^x.
func expNonPositive(x float32) float32 {
	if !(x >= -87) {
		if x != x {
			return x
		}
		return 0
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		magic = 12582912 // 1.5 * 2^23
	)
	k := float32(float32(x*log2e)+magic) - magic
	r := float32(x-k*ln2hi) - k*ln2lo
	p := float32(1.0/720)*r + 1.0/120
	p = p*r + 1.0/24
	p = p*r + 1.0/6
	p = p*r + 0.5
	p = p*r + 1
	p = p*r + 1
	return p * math.Float32frombits(uint32(int32(k)+127)<<23)
}

// gatherSumHeads8Ref is GatherSumHeads8F32 in Go.
func gatherSumHeads8Ref(y, x []float32, width int, rows []int32, alpha []float32, heads int) {
	y = y[:8*heads]
	clear(y)
	for k, r := range rows {
		row := x[int(r)*width:]
		for h, a := range alpha[k*heads : (k+1)*heads] {
			yb, xb := (*[8]float32)(y[8*h:]), (*[8]float32)(row[8*h:])
			for j := range yb {
				yb[j] += a * xb[j]
			}
		}
	}
}
