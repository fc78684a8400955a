package asm

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
