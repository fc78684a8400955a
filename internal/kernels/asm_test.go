package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// lengths are the vector lengths and row widths tested: around every multiple of the vector
// widths (4, 8, 16 lanes) and of the 4- and 8-vector blocks.
var lengths = []int{0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 1000}

// rowCounts are the numbers of rows gathered per call.
var rowCounts = []int{0, 1, 2, 3, 16, 33}

const guard = 5 // sentinel elements on each side of an output

// forEachBackend runs f once per backend available here, with that backend active.
func forEachBackend(t *testing.T, f func(t *testing.T)) {
	for _, l := range available() {
		t.Run(l.String(), func(t *testing.T) {
			defer setBackend(l)()
			f(t)
		})
	}
}

// guarded returns a slice of n elements starting off elements into a buffer, with guard
// sentinels on both sides: the whole buffer is returned to check them.
func guarded[T any](n, off int, sentinel T) (buf, s []T) {
	buf = make([]T, off+n+2*guard)
	for i := range buf {
		buf[i] = sentinel
	}
	return buf, buf[guard+off : guard+off+n]
}

// checkGuards fails if an element of buf outside [lo, lo+n) is not the sentinel.
func checkGuards[T comparable](t *testing.T, name string, buf []T, lo, n int, sentinel T) {
	t.Helper()
	for i, v := range buf {
		if (i < lo || i >= lo+n) && v != sentinel {
			t.Fatalf("%s: element %d outside the output [%d,%d) overwritten: %v", name, i, lo, lo+n, v)
		}
	}
}

func sentinel[T float]() T { return T(-12345.5) }

const argSentinel int32 = 0x5eed

func randSlice[T float](r *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(r.Float64()*2 - 1)
	}
	return s
}

func eps[T float]() float64 {
	var z T
	if _, ok := any(z).(float32); ok {
		return 0x1p-23
	}
	return 0x1p-52
}

// near reports whether got matches want for a sum of n terms whose absolute values add up to
// abs: kernels may fuse multiply-adds and reorder the sum, each step rounding by at most eps.
func near[T float](got, want T, abs float64, n int) bool {
	if math.IsNaN(float64(want)) {
		return math.IsNaN(float64(got))
	}
	tol := 2*float64(n+2)*eps[T]()*abs + 1e-30
	return math.Abs(float64(got)-float64(want)) <= tol
}

func sameBits[T float](a, b T) bool {
	if a != a && b != b {
		return true
	}
	return a == b && math.Signbit(float64(a)) == math.Signbit(float64(b))
}

type kernels[T float] struct {
	axpy      func(alpha T, x, y []T)
	dot       func(x, y []T) T
	scale     func(alpha T, x []T)
	gatherSum func(y, x []T, width int, rows []int32, alpha []T)
	gatherMax func(y []T, arg []int32, x []T, width int, rows []int32, base int32)
}

var (
	api32 = kernels[float32]{AxpyF32, DotF32, ScaleF32, GatherSumF32, GatherMaxF32}
	api64 = kernels[float64]{AxpyF64, DotF64, ScaleF64, GatherSumF64, GatherMaxF64}
)

func TestAxpy(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		testAxpy(t, api32)
		testAxpy(t, api64)
	})
}

func testAxpy[T float](t *testing.T, k kernels[T]) {
	r := rand.New(rand.NewPCG(1, 2))
	s := sentinel[T]()
	for _, n := range lengths {
		for off := 0; off <= 3; off++ {
			x := randSlice[T](r, n+off)[off:]
			y0 := randSlice[T](r, n)
			alpha := T(r.Float64()*4 - 2)
			buf, y := guarded(n, off, s)
			copy(y, y0)
			k.axpy(alpha, x, y)
			checkGuards(t, fmt.Sprintf("axpy %T n=%d off=%d", alpha, n, off), buf, guard+off, n, s)
			want := append([]T(nil), y0...)
			axpyRef(alpha, x, want)
			for i := range want {
				abs := math.Abs(float64(alpha*x[i])) + math.Abs(float64(y0[i]))
				if !near(y[i], want[i], abs, 1) {
					t.Fatalf("axpy %T n=%d off=%d: y[%d] = %v, want %v", alpha, n, off, i, y[i], want[i])
				}
			}
		}
	}
}

func TestDot(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		testDot(t, api32)
		testDot(t, api64)
	})
}

func testDot[T float](t *testing.T, k kernels[T]) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range lengths {
		for off := 0; off <= 3; off++ {
			x := randSlice[T](r, n+off)[off:]
			y := randSlice[T](r, n+3+off)[3:] // longer than x: only len(x) counts
			got, want := k.dot(x, y), dotRef(x, y[:n])
			abs := 0.0
			for i := range x {
				abs += math.Abs(float64(x[i] * y[i]))
			}
			if !near(got, want, abs, n) {
				t.Fatalf("dot %T n=%d off=%d: got %v, want %v", got, n, off, got, want)
			}
		}
	}
}

// TestL2Squared compares L2SquaredF32 with l2SquaredRef at every length 0..1000 and at unaligned
// offsets; y is longer than x (only len(x) counts) and the inputs are read-only, so they are
// checked unchanged instead of guarded.
func TestL2Squared(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		for n := 0; n <= 1000; n++ {
			for off := 0; off <= 3; off++ {
				x := randSlice[float32](r, n+off)[off:]
				y := randSlice[float32](r, n+3+off)[3:]
				x0, y0 := append([]float32(nil), x...), append([]float32(nil), y...)
				got, want := L2SquaredF32(x, y), l2SquaredRef(x, y[:n])
				abs := 0.0
				for i := range x {
					d := float64(x[i] - y[i])
					abs += d * d
				}
				if !near(got, want, abs, n) {
					t.Fatalf("n=%d off=%d: got %v, want %v", n, off, got, want)
				}
				for i := range x0 {
					if x[i] != x0[i] {
						t.Fatalf("n=%d off=%d: x[%d] changed", n, off, i)
					}
				}
				for i := range y0 {
					if y[i] != y0[i] {
						t.Fatalf("n=%d off=%d: y[%d] changed", n, off, i)
					}
				}
			}
		}
		// Exact on small integers; a zero distance is exactly zero.
		if got := L2SquaredF32([]float32{1, 2, 3}, []float32{4, 0, -1}); got != 29 {
			t.Errorf("L2SquaredF32 small = %v, want 29", got)
		}
		v := randSlice[float32](r, 100)
		if got := L2SquaredF32(v, v); got != 0 {
			t.Errorf("L2SquaredF32(v, v) = %v, want 0", got)
		}
	})
}

func TestScale(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		testScale(t, api32)
		testScale(t, api64)
	})
}

func testScale[T float](t *testing.T, k kernels[T]) {
	r := rand.New(rand.NewPCG(5, 6))
	s := sentinel[T]()
	for _, n := range lengths {
		for off := 0; off <= 3; off++ {
			x0 := randSlice[T](r, n)
			alpha := T(r.Float64()*4 - 2)
			buf, x := guarded(n, off, s)
			copy(x, x0)
			k.scale(alpha, x)
			checkGuards(t, fmt.Sprintf("scale %T n=%d off=%d", alpha, n, off), buf, guard+off, n, s)
			scaleRef(alpha, x0)
			for i := range x0 {
				if !sameBits(x[i], x0[i]) { // one rounding either way: exact
					t.Fatalf("scale %T n=%d off=%d: x[%d] = %v, want %v", alpha, n, off, i, x[i], x0[i])
				}
			}
		}
	}
}

// gatherCase is the input of one gather call.
type gatherCase[T float] struct {
	x     []T
	width int
	rows  []int32
	alpha []T
	base  int32
}

// gatherCases yields, for every width and row count, inputs on unaligned sub-slices; rows repeat
// and values come from a small set when ties matter (ties), so that max sees equal values.
func gatherCases[T float](r *rand.Rand, ties bool, f func(name string, c gatherCase[T], off int)) {
	for _, width := range lengths {
		for _, nrows := range rowCounts {
			nsrc := 1 + nrows/2 // fewer source rows than rows: some repeat
			off := 1 + (width+nrows)%3
			x := make([]T, off+nsrc*width)[off:]
			for i := range x {
				if ties {
					x[i] = T(r.IntN(5) - 2)
				} else {
					x[i] = T(r.Float64()*2 - 1)
				}
			}
			rows := make([]int32, nrows)
			for i := range rows {
				rows[i] = int32(r.IntN(nsrc))
			}
			alpha := randSlice[T](r, nrows+off)[off:]
			name := fmt.Sprintf("%T width=%d rows=%d off=%d", x[0:0], width, nrows, off)
			f(name, gatherCase[T]{x, width, rows, nil, 7}, off)
			f(name+" alpha", gatherCase[T]{x, width, rows, alpha, -3}, off)
		}
	}
}

func TestGatherSum(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		testGatherSum(t, api32)
		testGatherSum(t, api64)
	})
}

func testGatherSum[T float](t *testing.T, k kernels[T]) {
	r := rand.New(rand.NewPCG(7, 8))
	s := sentinel[T]()
	gatherCases(r, false, func(name string, c gatherCase[T], off int) {
		buf, y := guarded(c.width, off, s)
		k.gatherSum(y, c.x, c.width, c.rows, c.alpha)
		checkGuards(t, name, buf, guard+off, c.width, s)
		want := make([]T, c.width)
		gatherSumRef(want, c.x, c.width, c.rows, c.alpha)
		for j := range want {
			abs := 0.0
			for i, row := range c.rows {
				a := 1.0
				if c.alpha != nil {
					a = float64(c.alpha[i])
				}
				abs += math.Abs(a * float64(c.x[int(row)*c.width+j]))
			}
			if !near(y[j], want[j], abs, len(c.rows)) {
				t.Fatalf("%s: y[%d] = %v, want %v", name, j, y[j], want[j])
			}
		}
	})
}

func TestGatherMax(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		testGatherMax(t, api32, false)
		testGatherMax(t, api64, false)
		testGatherMax(t, api32, true)
		testGatherMax(t, api64, true)
	})
}

func testGatherMax[T float](t *testing.T, k kernels[T], nans bool) {
	r := rand.New(rand.NewPCG(9, 10))
	s := sentinel[T]()
	gatherCases(r, true, func(name string, c gatherCase[T], off int) {
		if nans {
			// NaN in about a quarter of the values, so some lanes start with NaN, some get
			// NaN later and, with few rows, some are NaN throughout.
			x := append([]T(nil), c.x...)
			for i := range x {
				if r.IntN(4) == 0 {
					x[i] = T(math.NaN())
				}
			}
			c.x = x
			name += " NaN"
		}
		ybuf, y := guarded(c.width, off, s)
		abuf, arg := guarded(c.width, 3-off, argSentinel)
		k.gatherMax(y, arg, c.x, c.width, c.rows, c.base)
		checkGuards(t, name+" y", ybuf, guard+off, c.width, s)
		checkGuards(t, name+" arg", abuf, guard+3-off, c.width, argSentinel)
		want, wantArg := make([]T, c.width), make([]int32, c.width)
		gatherMaxRef(want, wantArg, c.x, c.width, c.rows, c.base)
		for j := range want {
			if !sameBits(y[j], want[j]) || arg[j] != wantArg[j] {
				t.Fatalf("%s: y[%d], arg[%d] = %v, %d, want %v, %d", name, j, j, y[j], arg[j], want[j], wantArg[j])
			}
		}
	})
}

// TestGatherMaxNaN pins the NaN rules on a small case, for every backend and the reference.
func TestGatherMaxNaN(t *testing.T) {
	nan := float32(math.NaN())
	// Columns: NaN first then numbers; number then NaN; all NaN; ties; -0 then +0; -Inf only.
	x := []float32{
		nan, 1, nan, 2, float32(math.Copysign(0, -1)), float32(math.Inf(-1)),
		5, nan, nan, 2, 0, float32(math.Inf(-1)),
		4, 0, nan, 2, 0, float32(math.Inf(-1)),
	}
	const width = 6
	rows := []int32{0, 1, 2}
	wantY := []float32{5, 1, nan, 2, float32(math.Copysign(0, -1)), float32(math.Inf(-1))}
	wantArg := []int32{11, 10, 10, 10, 10, 10}
	forEachBackend(t, func(t *testing.T) {
		// Replicate the pattern across vector blocks and a masked tail.
		for _, reps := range []int{1, 3, 16, 23} {
			w := width * reps
			xr := make([]float32, 0, len(x)*reps)
			for r := 0; r < 3; r++ {
				for i := 0; i < reps; i++ {
					xr = append(xr, x[r*width:(r+1)*width]...)
				}
			}
			y, arg := make([]float32, w), make([]int32, w)
			GatherMaxF32(y, arg, xr, w, rows, 10)
			for j := range y {
				if !sameBits(y[j], wantY[j%width]) || arg[j] != wantArg[j%width] {
					t.Fatalf("reps=%d: y[%d], arg[%d] = %v, %d, want %v, %d", reps, j, j, y[j], arg[j], wantY[j%width], wantArg[j%width])
				}
			}
		}
	})
}

func TestGatherEmpty(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		y := []float32{1, 2, 3, 4}
		GatherSumF32(y, nil, 3, nil, nil)
		if y[0] != 0 || y[1] != 0 || y[2] != 0 || y[3] != 4 {
			t.Fatalf("GatherSumF32 with no rows: y = %v, want [0 0 0 4]", y)
		}
		y64, arg := []float64{1, 2, 3}, []int32{5, 5, 5}
		GatherMaxF64(y64, arg, []float64{9, 9}, 2, []int32{}, 4)
		if y64[0] != 0 || y64[1] != 0 || y64[2] != 3 || arg[0] != -1 || arg[1] != -1 || arg[2] != 5 {
			t.Fatalf("GatherMaxF64 with no rows: y = %v, arg = %v", y64, arg)
		}
		// Width 0 touches nothing, whatever the rows.
		GatherSumF32(nil, nil, 0, []int32{1 << 30}, nil)
		GatherMaxF32(nil, nil, nil, 0, []int32{3}, 0)
	})
}

func TestPanics(t *testing.T) {
	x := make([]float32, 12) // 3 rows of width 4
	y := make([]float32, 4)
	arg := make([]int32, 4)
	cases := map[string]func(){
		"axpy short y":        func() { AxpyF32(1, x, y) },
		"dot short y":         func() { DotF64(make([]float64, 3), make([]float64, 2)) },
		"l2 short y":          func() { L2SquaredF32(make([]float32, 3), make([]float32, 2)) },
		"sum short y":         func() { GatherSumF32(y[:3], x, 4, []int32{0}, nil) },
		"sum short alpha":     func() { GatherSumF32(y, x, 4, []int32{0, 1}, []float32{1}) },
		"sum negative row":    func() { GatherSumF32(y, x, 4, []int32{0, -1}, nil) },
		"sum row past end":    func() { GatherSumF32(y, x, 4, []int32{3}, nil) },
		"sum huge row":        func() { GatherSumF64(make([]float64, 4), make([]float64, 12), 4, []int32{math.MaxInt32}, nil) },
		"sum negative width":  func() { GatherSumF32(y, x, -1, nil, nil) },
		"sum width 0 neg row": func() { GatherSumF32(y, x, 0, []int32{-1}, nil) },
		"max short arg":       func() { GatherMaxF32(y, arg[:3], x, 4, []int32{0}, 0) },
		"max short y":         func() { GatherMaxF32(y[:2], arg, x, 4, []int32{0}, 0) },
		"max row past end":    func() { GatherMaxF64(make([]float64, 4), arg, make([]float64, 11), 4, []int32{2}, 0) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
	// The last full row is in range.
	GatherSumF32(y, x, 4, []int32{2}, nil)
	GatherMaxF32(y, arg, x, 4, []int32{2}, 0)
}

// TestNoAllocs calls every kernel on stack arrays: if an argument escaped (say a missing
// //go:noescape), the arrays would move to the heap and AllocsPerRun would count them.
func TestNoAllocs(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		n := testing.AllocsPerRun(20, func() {
			var x, y [70]float32
			var x64, y64 [70]float64
			var arg [10]int32
			rows := [3]int32{0, 4, 2}
			alpha := [3]float32{1, 2, 3}
			alpha64 := [3]float64{1, 2, 3}
			AxpyF32(2, x[:], y[:])
			AxpyF64(2, x64[:], y64[:])
			_ = DotF32(x[:], y[:])
			_ = DotF64(x64[:], y64[:])
			_ = L2SquaredF32(x[:], y[:])
			ScaleF32(2, x[:])
			ScaleF64(2, x64[:])
			GatherSumF32(y[:10], x[:], 10, rows[:], alpha[:])
			GatherSumF32(y[:10], x[:], 10, rows[:], nil)
			GatherSumF64(y64[:10], x64[:], 10, rows[:], alpha64[:])
			GatherMaxF32(y[:10], arg[:], x[:], 10, rows[:], 0)
			GatherMaxF64(y64[:10], arg[:], x64[:], 10, rows[:], 0)
		})
		if n != 0 {
			t.Fatalf("%v allocations per run, want 0", n)
		}
	})
}

func TestLowerTo(t *testing.T) {
	for _, c := range []struct {
		best level
		env  string
		want level
	}{
		{levelAVX512, "", levelAVX512},
		{levelAVX512, "avx2", levelAVX2},
		{levelAVX512, "generic", levelGeneric},
		{levelAVX2, "avx512", levelAVX2}, // cannot force a higher backend
		{levelAVX2, "sse", levelAVX2},    // unknown values are ignored
		{levelGeneric, "avx2", levelGeneric},
	} {
		if got := lowerTo(c.best, c.env); got != c.want {
			t.Errorf("lowerTo(%v, %q) = %v, want %v", c.best, c.env, got, c.want)
		}
	}
}

func FuzzGatherSumF32(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8}, uint8(3), []byte{0, 1, 0}, true)
	f.Add(make([]byte, 300), uint8(129), []byte{2, 0}, false)
	f.Add([]byte{200, 100, 7}, uint8(1), []byte{}, true)
	f.Fuzz(func(t *testing.T, data []byte, w uint8, rowBytes []byte, weighted bool) {
		width := int(w)
		if width == 0 || len(data) < width {
			return
		}
		nsrc := len(data) / width
		x := make([]float32, nsrc*width)
		for i := range x {
			x[i] = float32(int8(data[i])) / 16 // exact small values, signs mixed
		}
		rows := make([]int32, len(rowBytes))
		var alpha []float32
		if weighted {
			alpha = make([]float32, len(rowBytes))
		}
		for i, b := range rowBytes {
			rows[i] = int32(int(b) % nsrc)
			if weighted {
				alpha[i] = float32(int8(b^0x5a)) / 8
			}
		}
		want := make([]float32, width)
		gatherSumRef(want, x, width, rows, alpha)
		for _, l := range available() {
			restore := setBackend(l)
			buf, y := guarded(width, int(w)%4, sentinel[float32]())
			GatherSumF32(y, x, width, rows, alpha)
			restore()
			checkGuards(t, l.String(), buf, guard+int(w)%4, width, sentinel[float32]())
			for j := range want {
				abs := 0.0
				for i, r := range rows {
					a := 1.0
					if alpha != nil {
						a = float64(alpha[i])
					}
					abs += math.Abs(a * float64(x[int(r)*width+j]))
				}
				if !near(y[j], want[j], abs, len(rows)) {
					t.Fatalf("%v: y[%d] = %v, want %v", l, j, y[j], want[j])
				}
			}
		}
	})
}
