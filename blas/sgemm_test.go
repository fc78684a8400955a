package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans}

// sgemmCase is one Sgemm call; pad widens each leading dimension past its minimum.
type sgemmCase struct {
	tA, tB      blas.Transpose
	m, n, k     int
	pad         int
	alpha, beta float32
}

func (c sgemmCase) String() string {
	return fmt.Sprintf("tA=%c tB=%c m=%d n=%d k=%d pad=%d alpha=%v beta=%v", c.tA, c.tB, c.m, c.n, c.k, c.pad, c.alpha, c.beta)
}

func (c sgemmCase) dims() (lda, ldb, ldc, na, nb, nc int) {
	ar, ac := c.m, c.k
	if c.tA != blas.NoTrans {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.tB != blas.NoTrans {
		br, bc = c.n, c.k
	}
	lda, ldb, ldc = max(1, ac)+c.pad, max(1, bc)+c.pad, max(1, c.n)+c.pad
	return lda, ldb, ldc, max(0, ar*lda), max(0, br*ldb), max(0, c.m*ldc)
}

func absF32(s []float32) []float32 {
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = float32(math.Abs(float64(v)))
	}
	return r
}

func randF32(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

const cSentinel = -12345.5

// checkSgemm runs c through Implementation.Sgemm and gonum's and compares element by element
// within the rounding of a k-term sum; C's padding between rows, and guards after it, must be
// untouched. beta == 0 starts from a C full of NaN, which must be overwritten.
func checkCase(t *testing.T, r *rand.Rand, c sgemmCase) {
	t.Helper()
	checkWith(t, r, c, Implementation{}.Sgemm)
	if c.m > 0 && c.n > 0 && c.k > 0 && c.alpha != 0 {
		// The packed path itself, also where Sgemm leaves the product to gonum (m == 1, tiny).
		checkWith(t, r, c, func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, cm []float32, ldc int) {
			packedSgemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc)
		})
	}
}

type sgemmFunc func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

func checkWith(t *testing.T, r *rand.Rand, c sgemmCase, sgemm sgemmFunc) {
	t.Helper()
	lda, ldb, ldc, na, nb, nc := c.dims()
	a, b := randF32(r, na), randF32(r, nb)
	const guard = 7
	c0 := make([]float32, nc+guard)
	for i := range c0 {
		c0[i] = cSentinel
	}
	for i := 0; i < c.m; i++ {
		for j := 0; j < c.n; j++ {
			v := r.Float32()*2 - 1
			if c.beta == 0 {
				v = float32(math.NaN())
			}
			c0[i*ldc+j] = v
		}
	}
	got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
	sgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, got[:nc], ldc)
	if c.beta == 0 {
		// gonum multiplies by beta: 0*NaN is NaN. Zero its copy first, which is what BLAS means.
		for i := 0; i < c.m; i++ {
			clear(want[i*ldc : i*ldc+c.n])
		}
	}
	gonum.Implementation{}.Sgemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, a, lda, b, ldb, c.beta, want[:nc], ldc)
	// The error bound of element (i, j) needs |alpha| * sum_p |op(A)[i,p]| |op(B)[p,j]|: gonum
	// computes it on the absolute values.
	absA, absB := absF32(a), absF32(b)
	bound := make([]float32, max(nc, 1))
	gonum.Implementation{}.Sgemm(c.tA, c.tB, c.m, c.n, c.k, 1, absA, lda, absB, ldb, 0, bound, ldc)
	for idx := range got {
		i, j := idx/ldc, idx%ldc
		if i >= c.m || j >= c.n {
			if got[idx] != cSentinel {
				t.Fatalf("%v: c[%d] outside the m×n matrix overwritten: %v", c, idx, got[idx])
			}
			continue
		}
		abs := float64(bound[idx]) * math.Abs(float64(c.alpha)) * (1 + 1e-5)
		if c.beta != 0 {
			abs += math.Abs(float64(c.beta) * float64(c0[idx]))
		}
		tol := 2*float64(c.k+3)*0x1p-23*abs + 1e-30
		if d := math.Abs(float64(got[idx]) - float64(want[idx])); !(d <= tol) {
			t.Fatalf("%v: C[%d,%d] = %v, gonum %v (tolerance %g)", c, i, j, got[idx], want[idx], tol)
		}
	}
}

// TestSgemm compares with gonum over random small shapes (every size around the 6×16 tile,
// k = 0 and 1), padded leading dimensions, both transposes of each operand and alpha and beta
// values including zero.
func TestSgemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := []int{0, 1, 2, 3, 5, 6, 7, 11, 12, 13, 15, 16, 17, 31, 32, 33, 50}
	alphas := []float32{1, -1.5, 0}
	betas := []float32{0, 1, 0.5}
	for i := 0; i < 1500; i++ {
		c := sgemmCase{
			tA: transposes[r.IntN(2)], tB: transposes[r.IntN(2)],
			m: sizes[r.IntN(len(sizes))], n: sizes[r.IntN(len(sizes))], k: sizes[r.IntN(len(sizes))],
			pad: r.IntN(2) * (1 + r.IntN(4)), alpha: alphas[r.IntN(len(alphas))], beta: betas[r.IntN(len(betas))],
		}
		checkCase(t, r, c)
	}
}

// TestSgemmBlocks crosses the k and n block sizes (kcBlock, ncBlock) and the parallel split,
// in every transpose combination.
func TestSgemmBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, tA := range transposes {
		for _, tB := range transposes {
			// m > mcBlock per thread, n > ncBlock and k > kcBlock, each with edges; B in place (n <= 256) and
			// packed; thin shapes.
			for _, s := range [][3]int{{125, 260, 300}, {130, 200, 300}, {300, 40, 300}, {20, 300, 257}, {5, 300, 40}, {300, 3, 40}} {
				checkCase(t, r, sgemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], pad: 1, alpha: 0.5, beta: 0.25})
			}
		}
	}
	// Long k with a small C: the k-split path, in every transpose combination.
	for _, tA := range transposes {
		for _, tB := range transposes {
			checkCase(t, r, sgemmCase{tA: tA, tB: tB, m: 9, n: 19, k: 2*kChunk + 37, pad: 2, alpha: -1, beta: 0.5})
		}
	}
	checkCase(t, r, sgemmCase{tA: blas.Trans, tB: blas.NoTrans, m: 7, n: 3, k: 3 * kChunk, alpha: 2, beta: 0})
	checkCase(t, r, sgemmCase{tA: blas.ConjTrans, tB: blas.ConjTrans, m: 40, n: 50, k: 60, alpha: 1, beta: 0})
}

// TestSgemmThreads checks that the result is bit-identical for every number of goroutines.
func TestSgemmThreads(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][3]int{{203, 77, 300}, {13, 211, 64}, {13, 20, 3*kChunk + 5}} {
		for _, tA := range transposes {
			m, n, k := s[0], s[1], s[2]
			j := sgemmJob{aTrans: tA == blas.Trans, m: m, n: n, k: k, alpha: 1.25, beta: 0.5,
				a: randF32(r, m*k), lda: max(m, k), b: randF32(r, k*n), ldb: n, ldc: n}
			if tA == blas.NoTrans {
				j.lda = k
			} else {
				j.lda = m
			}
			c0 := randF32(r, m*n)
			var first []float32
			for nt := 1; nt <= 5; nt++ {
				j.c = append([]float32(nil), c0...)
				j.run(nt)
				if first == nil {
					first = j.c
					continue
				}
				for i := range first {
					if math.Float32bits(first[i]) != math.Float32bits(j.c[i]) {
						t.Fatalf("m=%d n=%d k=%d tA=%c: %d goroutines give C[%d] = %v, 1 gives %v", m, n, k, tA, nt, i, j.c[i], first[i])
					}
				}
			}
		}
	}
}

// TestSgemmStream covers the products whose C is written with non-temporal stores (beta = 0, one
// k block, C of at least streamMinC elements on cache-line boundaries): row panels through
// kernels.GemmStreamF32 with the next A panel prefetched as one region, with gaps between its rows,
// or row by row; a partial right panel and bottom panel; a transposed A or B; and C at an
// unaligned stride, which must not stream. Each streaming shape must agree with gonum and give
// the same bits with 1 and 3 goroutines.
func TestSgemmStream(t *testing.T) {
	if testing.Short() {
		t.Skip("large products")
	}
	r := rand.New(rand.NewPCG(7, 8))
	m := streamMinC/56 + 5 // m*n >= streamMinC for n >= 56; the last row panel is partial
	for _, c := range []struct {
		sgemmCase
		stream bool
	}{
		{sgemmCase{tA: blas.NoTrans, tB: blas.NoTrans, m: m, n: 64, k: 20, alpha: 1}, true},
		{sgemmCase{tA: blas.NoTrans, tB: blas.NoTrans, m: m, n: 70, k: 13, pad: 10, alpha: -0.5}, true},
		{sgemmCase{tA: blas.NoTrans, tB: blas.NoTrans, m: m, n: 60, k: 9, pad: 20, alpha: 1}, true},
		{sgemmCase{tA: blas.Trans, tB: blas.Trans, m: m, n: 64, k: 12, alpha: 2}, true},
		{sgemmCase{tA: blas.NoTrans, tB: blas.Trans, m: m, n: 64, k: 5, pad: 1, alpha: 1}, false},
	} {
		lda, ldb, ldc, na, nb, nc := c.dims()
		j := sgemmJob{aTrans: c.tA != blas.NoTrans, bTrans: c.tB != blas.NoTrans, m: c.m, n: c.n, k: c.k,
			alpha: c.alpha, a: randF32(r, na), lda: lda, b: randF32(r, nb), ldb: ldb, c: make([]float32, nc), ldc: ldc}
		if got := j.streams(); got != c.stream {
			t.Fatalf("%v: streams() = %v, want %v", c.sgemmCase, got, c.stream)
		}
		if !c.stream {
			continue // the tile path, tested above
		}
		checkWith(t, r, c.sgemmCase, Implementation{}.Sgemm)
		j.run(1)
		one := append([]float32(nil), j.c...)
		j.run(3)
		for i := range one {
			if math.Float32bits(one[i]) != math.Float32bits(j.c[i]) {
				t.Fatalf("%v: 3 goroutines give C[%d] = %v, 1 gives %v", c.sgemmCase, i, j.c[i], one[i])
			}
		}
	}
}

// TestSgemmPanics checks that invalid arguments panic with gonum's message, and valid edge
// cases with gonum's silence.
func TestSgemmPanics(t *testing.T) {
	a, b, c := make([]float32, 12), make([]float32, 12), make([]float32, 12)
	type call struct {
		tA, tB  blas.Transpose
		m, n, k int
		a       []float32
		lda     int
		b       []float32
		ldb     int
		c       []float32
		ldc     int
	}
	calls := []call{
		{'x', blas.NoTrans, 3, 4, 3, a, 3, b, 4, c, 4},
		{blas.NoTrans, 'x', 3, 4, 3, a, 3, b, 4, c, 4},
		{blas.NoTrans, blas.NoTrans, -1, 4, 3, a, 3, b, 4, c, 4},
		{blas.NoTrans, blas.NoTrans, 3, -1, 3, a, 3, b, 4, c, 4},
		{blas.NoTrans, blas.NoTrans, 3, 4, -1, a, 3, b, 4, c, 4},
		{blas.NoTrans, blas.NoTrans, 3, 4, 3, a, 2, b, 4, c, 4},
		{blas.Trans, blas.NoTrans, 3, 4, 3, a, 2, b, 4, c, 4},
		{blas.NoTrans, blas.NoTrans, 3, 4, 3, a, 3, b, 3, c, 4},
		{blas.NoTrans, blas.Trans, 3, 4, 3, a, 3, b, 2, c, 4},
		{blas.NoTrans, blas.NoTrans, 3, 4, 3, a, 3, b, 4, c, 3},
		{blas.NoTrans, blas.NoTrans, 3, 4, 3, a[:8], 3, b, 4, c, 4},
		{blas.NoTrans, blas.NoTrans, 3, 4, 3, a, 3, b[:11], 4, c, 4},
		{blas.NoTrans, blas.NoTrans, 3, 4, 3, a, 3, b, 4, c[:11], 4},
		{blas.Trans, blas.Trans, 3, 4, 3, a[:8], 3, b, 3, c, 4},
		{blas.NoTrans, blas.NoTrans, 0, 4, 3, nil, 3, nil, 4, nil, 4}, // m == 0: no length checks
		{blas.NoTrans, blas.NoTrans, 3, 4, 0, nil, 1, nil, 4, c, 4},   // k == 0: C = beta*C
		{blas.NoTrans, blas.NoTrans, 3, 4, 3, a, 3, b, 4, c, 4},       // valid
	}
	catch := func(f func()) (msg any) {
		defer func() { msg = recover() }()
		f()
		return nil
	}
	for i, cl := range calls {
		ours := catch(func() {
			Implementation{}.Sgemm(cl.tA, cl.tB, cl.m, cl.n, cl.k, 1, cl.a, cl.lda, cl.b, cl.ldb, 0.5, cl.c, cl.ldc)
		})
		theirs := catch(func() {
			gonum.Implementation{}.Sgemm(cl.tA, cl.tB, cl.m, cl.n, cl.k, 1, cl.a, cl.lda, cl.b, cl.ldb, 0.5, cl.c, cl.ldc)
		})
		if ours != theirs {
			t.Errorf("call %d: panic %v, gonum %v", i, ours, theirs)
		}
	}
}

func TestSgemmNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	a, b, c := randF32(r, 40*30), randF32(r, 30*20), make([]float32, 40*20)
	Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 40, 20, 30, 1, a, 30, b, 20, 0, c, 20) // warm the pool
	n := testing.AllocsPerRun(20, func() {
		Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 40, 20, 30, 1, a, 30, b, 20, 0, c, 20)
	})
	if n != 0 {
		t.Errorf("%v allocations per single-threaded call, want 0", n)
	}
}
