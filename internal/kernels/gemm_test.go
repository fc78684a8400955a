package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// gemmLayout is how the kernel reads A: packed, or in place from a row-major matrix or its
// transpose; lda pads the leading dimension past the minimum.
type gemmLayout struct {
	name string
	rs   func(kc int) int
	cs   func(kc int) int
}

var gemmLayouts = []gemmLayout{
	{"packed", func(int) int { return 1 }, func(int) int { return GemmMR }},
	{"rows", func(kc int) int { return kc + 3 }, func(int) int { return 1 }},
	{"cols", func(int) int { return 1 }, func(int) int { return GemmMR + 5 }},
}

// TestGemmKernel compares GemmKernelF32 with gemmKernelRef for every backend: k lengths around
// the unroll, every A layout, padded ldc, alpha and beta including beta = 0 over a NaN tile.
// C lives in a guarded buffer whose gaps between the tile's rows are checked too.
func TestGemmKernel(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(31, 32))
		s := sentinel[float32]()
		for _, kc := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 33, 64, 257} {
			for _, lay := range gemmLayouts {
				for _, ldc := range []int{GemmNR, GemmNR + 3, 2 * GemmNR} {
					ldb := ldc + kc%2 // packed (16), and B in place with padded rows
					for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 0.7}, {2, 0}} {
						alpha, beta := ab[0], ab[1]
						rs, cs := lay.rs(kc), lay.cs(kc)
						na := 1
						if kc > 0 {
							na = (GemmMR-1)*rs + (kc-1)*cs + 1
						}
						off := kc % 3
						a := randSlice[float32](r, na+off)[off:]
						b := randSlice[float32](r, max(0, (kc-1)*ldb+GemmNR))
						nc := (GemmMR-1)*ldc + GemmNR
						buf, c := guarded(nc, off, s)
						c0 := make([]float32, nc)
						for i := range c0 {
							c0[i] = s
						}
						for i := 0; i < GemmMR; i++ {
							for j := 0; j < GemmNR; j++ {
								v := float32(r.Float64()*2 - 1)
								if beta == 0 {
									v = float32(math.NaN())
								}
								c0[i*ldc+j] = v
							}
						}
						copy(c, c0)
						want := append([]float32(nil), c0...)
						gemmKernelRef(kc, a, rs, cs, b, ldb, want, ldc, alpha, beta)
						GemmKernelF32(kc, a, rs, cs, b, ldb, c, ldc, alpha, beta)
						name := fmt.Sprintf("kc=%d %s ldb=%d ldc=%d alpha=%v beta=%v", kc, lay.name, ldb, ldc, alpha, beta)
						checkGuards(t, name, buf, guard+off, nc, s)
						for i := 0; i < GemmMR; i++ {
							for j := 0; j < ldc && i*ldc+j < nc; j++ {
								k := i*ldc + j
								if j >= GemmNR {
									if c[k] != s {
										t.Fatalf("%s: gap c[%d] overwritten: %v", name, k, c[k])
									}
									continue
								}
								abs := 0.0
								for p := 0; p < kc; p++ {
									abs += math.Abs(float64(a[i*rs+p*cs] * b[p*ldb+j]))
								}
								abs *= math.Abs(float64(alpha))
								if beta != 0 {
									abs += math.Abs(float64(beta * c0[k]))
								}
								if !near(c[k], want[k], abs, kc+2) {
									t.Fatalf("%s: c[%d,%d] = %v, want %v", name, i, j, c[k], want[k])
								}
							}
						}
					}
				}
			}
		}
	})
}

// TestGemmStream compares GemmStreamF32 with GemmKernelF32 at beta = 0, tile by tile (the same
// arithmetic: bit-identical), and with gemmStreamRef, over NaN tiles: 1 to 4 tiles, B packed
// or in place, C rows on 64-byte boundaries (non-temporal stores) or off them (the fallback),
// with and without a prefetch region, guards around C and checks of the gaps between rows.
func TestGemmStream(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(33, 34))
		s := sentinel[float32]()
		for _, kc := range []int{0, 1, 5, 33, 128, 257} {
			for _, lay := range gemmLayouts {
				for _, np := range []int{1, 2, 4} {
					for _, packed := range []bool{true, false} {
						for _, ldcPad := range []int{0, 3, 16} {
							for _, shift := range []int{0, 1, 8} { // elements past a 64-byte boundary
								alpha := float32(1)
								if shift == 1 {
									alpha = -0.5
								}
								ldb, bstep := GemmNR, kc*GemmNR
								if !packed {
									ldb, bstep = np*GemmNR+kc%3, GemmNR
								}
								ldc := np*GemmNR + ldcPad
								rs, cs := lay.rs(kc), lay.cs(kc)
								na := 1
								if kc > 0 {
									na = (GemmMR-1)*rs + (kc-1)*cs + 1
								}
								a := randSlice[float32](r, na)
								b := randSlice[float32](r, (np-1)*bstep+max(0, (kc-1)*ldb+GemmNR))
								nc := (GemmMR-1)*ldc + np*GemmNR
								buf := make([]float32, nc+2*guard+32)
								for i := range buf {
									buf[i] = s
								}
								lo := guard
								for uintptr(unsafe.Pointer(&buf[lo]))%64 != 0 {
									lo++
								}
								lo += shift
								c := buf[lo : lo+nc]
								for i := 0; i < GemmMR; i++ {
									for j := 0; j < np*GemmNR; j++ {
										c[i*ldc+j] = float32(math.NaN())
									}
								}
								want := append([]float32(nil), c...)
								for q := 0; q < np; q++ {
									GemmKernelF32(kc, a, rs, cs, b[q*bstep:], ldb, want[q*GemmNR:], ldc, alpha, 0)
								}
								ref := append([]float32(nil), c...)
								gemmStreamRef(kc, a, rs, cs, b, ldb, bstep, np, ref, ldc, alpha)
								var pf []float32
								if shift != 0 {
									pf = a[min(len(a), 3):]
								}
								GemmStreamF32(kc, a, rs, cs, b, ldb, bstep, np, c, ldc, alpha, pf)
								StoreFence()
								name := fmt.Sprintf("kc=%d %s np=%d packed=%v ldc=%d shift=%d", kc, lay.name, np, packed, ldc, shift)
								checkGuards(t, name, buf, lo, nc, s)
								for k := range c {
									i, j := k/ldc, k%ldc
									if j >= np*GemmNR {
										if c[k] != s {
											t.Fatalf("%s: gap c[%d] overwritten: %v", name, k, c[k])
										}
										continue
									}
									if !sameBits(c[k], want[k]) {
										t.Fatalf("%s: c[%d,%d] = %v, GemmKernelF32 gives %v", name, i, j, c[k], want[k])
									}
									q, jj := j/GemmNR, j%GemmNR
									abs := 0.0
									for p := 0; p < kc; p++ {
										abs += math.Abs(float64(a[i*rs+p*cs] * b[q*bstep+p*ldb+jj]))
									}
									if !near(c[k], ref[k], abs*math.Abs(float64(alpha)), kc+2) {
										t.Fatalf("%s: c[%d,%d] = %v, reference %v", name, i, j, c[k], ref[k])
									}
								}
							}
						}
					}
				}
			}
		}
	})
}

func TestGemmKernelPanics(t *testing.T) {
	a, b, c := make([]float32, 6*4), make([]float32, 4*16), make([]float32, 6*16)
	cases := map[string]func(){
		"negative kc":    func() { GemmKernelF32(-1, a, 1, 6, b, 16, c, 16, 1, 0) },
		"negative rs":    func() { GemmKernelF32(4, a, -1, 6, b, 16, c, 16, 1, 0) },
		"small ldc":      func() { GemmKernelF32(4, a, 1, 6, b, 16, c, 15, 1, 0) },
		"short a":        func() { GemmKernelF32(4, a[:23], 1, 6, b, 16, c, 16, 1, 0) },
		"short b":        func() { GemmKernelF32(4, a, 1, 6, b[:63], 16, c, 16, 1, 0) },
		"short c":        func() { GemmKernelF32(4, a, 1, 6, b, 16, c[:95], 16, 1, 0) },
		"small ldb":      func() { GemmKernelF32(4, a, 1, 6, b, 15, c, 16, 1, 0) },
		"short b ldb":    func() { GemmKernelF32(4, a, 1, 6, b, 17, c, 16, 1, 0) },
		"short c ldc":    func() { GemmKernelF32(4, a, 1, 6, b, 16, c, 17, 1, 0) },
		"stream short a": func() { GemmStreamF32(4, a[:23], 1, 6, b, 16, 0, 1, c, 16, 1, nil) },
		"stream short c": func() { GemmStreamF32(4, a, 1, 6, b, 16, 0, 1, c[:95], 16, 1, nil) },
		"stream np 0":    func() { GemmStreamF32(4, a, 1, 6, b, 16, 0, 0, c, 16, 1, nil) },
		"stream short b": func() { GemmStreamF32(4, a, 1, 6, b, 16, 1, 2, c, 16, 1, nil) },
		"stream 2 tiles": func() { GemmStreamF32(4, a, 1, 6, b, 16, 0, 2, c, 16, 1, nil) },
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
	GemmKernelF32(4, a, 1, 6, b, 16, c, 16, 1, 0) // exactly long enough
}

func TestGemmKernelNoAllocs(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		n := testing.AllocsPerRun(20, func() {
			var a [6 * 8]float32
			var b [8 * 16]float32
			var c [6 * 16]float32
			GemmKernelF32(8, a[:], 1, 6, b[:], 16, c[:], 16, 1, 1)
			GemmStreamF32(8, a[:], 1, 6, b[:], 16, 0, 1, c[:], 16, 1, a[:])
			StoreFence()
			PrefetchF32(b[:])
			PrefetchL2F32(b[3:])
		})
		if n != 0 {
			t.Fatalf("%v allocations per run, want 0", n)
		}
	})
}

func TestSpinCycles(t *testing.T) {
	if got, want := SpinCycles(0), Backend() != "generic"; got != want {
		t.Errorf("SpinCycles(0) = %v with backend %s, want %v", got, Backend(), want)
	}
	if SpinCycles(-1) {
		t.Error("SpinCycles(-1) = true, want false")
	}
	if SpinCycles(1000) != (Backend() != "generic") {
		t.Error("SpinCycles(1000) disagrees with SpinCycles(0)")
	}
}

// BenchmarkGemmKernel runs the micro-kernel on L1-resident panels: the FMA throughput the blas
// package can reach at best. GFLOP/s = 2*6*16*kc per call.
func BenchmarkGemmKernel(b *testing.B) {
	const kc = 256
	a, bp := benchMatrix(GemmMR, kc), benchMatrix(kc, GemmNR)
	c := make([]float32, GemmMR*GemmNR)
	for _, l := range available() {
		b.Run(l.String(), func(b *testing.B) {
			defer setBackend(l)()
			for b.Loop() {
				GemmKernelF32(kc, a, 1, GemmMR, bp, GemmNR, c, GemmNR, 1, 1)
			}
			b.ReportMetric(2*GemmMR*GemmNR*kc*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
