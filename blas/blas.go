package blas

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"
)

// Implementation is gonum's BLAS with Sgemm replaced by the blocked, packed and parallel
// SGEMM of this package. Every other routine is gonum's. The zero value is ready to use.
type Implementation struct {
	gonum.Implementation
}

// Implementation is a complete BLAS for Gorgonia and tensor.
var _ gorgonia.BLAS = Implementation{}

// Use installs Implementation as the BLAS of Gorgonia and of gorgonia.org/tensor (gorgonia.Use
// calls tensor.Use), and of gonum's blas32 package: every float32 matrix product of a graph,
// forward and backward, then runs through Implementation.Sgemm, as do the custom ops that call
// blas32. Importing a package of the framework never calls it: a program opts in (the
// experiments do, through experiments/internal/expenv, and so do the notebooks). It is not safe
// while a graph runs.
func Use() {
	gorgonia.Use(Implementation{})
	blas32.Use(Implementation{})
}

// The panic messages are gonum's (blas/gonum/errors.go), so that callers see the same failures.
const (
	mLT0         = "blas: m < 0"
	nLT0         = "blas: n < 0"
	kLT0         = "blas: k < 0"
	badTranspose = "blas: illegal transpose"
	badLdA       = "blas: bad leading dimension of A"
	badLdB       = "blas: bad leading dimension of B"
	badLdC       = "blas: bad leading dimension of C"
	shortA       = "blas: insufficient length of a"
	shortB       = "blas: insufficient length of b"
	shortC       = "blas: insufficient length of c"
)

// Sgemm performs one of the matrix-matrix operations
//
//	C = alpha * A * B + beta * C
//	C = alpha * Aᵀ * B + beta * C
//	C = alpha * A * Bᵀ + beta * C
//	C = alpha * Aᵀ * Bᵀ + beta * C
//
// where A is an m×k or k×m row-major matrix with leading dimension lda, B an k×n or n×k one
// with ldb, C an m×n one with ldc, and alpha and beta are scalars; tA and tB say whether A or B
// are transposed (ConjTrans is Trans). It checks its arguments as gonum does and panics with
// gonum's messages. beta == 0 sets C without reading it (NaNs in C are overwritten);
// alpha == 0 or k == 0 only scales C by beta. A product with m == 1, or of at most 256
// multiply-adds, is left to gonum, which is faster there. Results do not depend on the number
// of threads (see the package documentation).
func (i Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	aTrans, bTrans := checkSgemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		if beta != 1 {
			scaleC(m, n, beta, c, ldc)
		}
		return
	}
	if m == 1 || m*n*k <= gonumMaxFlops {
		// A row vector times a matrix, or a tiny product: packing would cost more than
		// gonum's direct loops (which also zero C first when beta == 0).
		i.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	packedSgemm(aTrans, bTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gonumMaxFlops is the size (m*n*k) up to which gonum's Sgemm is faster than packing.
const gonumMaxFlops = 256

// packedSgemm is Sgemm's own path for checked arguments with m, n, k > 0 and alpha != 0.
func packedSgemm(aTrans, bTrans bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	j := sgemmJob{aTrans: aTrans, bTrans: bTrans, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc}
	j.run(threads(m, n, k))
}

// checkSgemm panics, with gonum's message and in gonum's order, on an invalid argument.
func checkSgemm(tA, tB blas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) (aTrans, bTrans bool) {
	switch tA {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	switch tB {
	default:
		panic(badTranspose)
	case blas.NoTrans, blas.Trans, blas.ConjTrans:
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	aTrans = tA != blas.NoTrans
	bTrans = tB != blas.NoTrans
	if aTrans {
		if lda < max(1, m) {
			panic(badLdA)
		}
	} else if lda < max(1, k) {
		panic(badLdA)
	}
	if bTrans {
		if ldb < max(1, k) {
			panic(badLdB)
		}
	} else if ldb < max(1, n) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if m == 0 || n == 0 {
		return
	}
	// With k == 0 these reduce to len >= 1 - lda or similar: trivially true, as in gonum.
	if aTrans {
		if len(a) < (k-1)*lda+m {
			panic(shortA)
		}
	} else if len(a) < (m-1)*lda+k {
		panic(shortA)
	}
	if bTrans {
		if len(b) < (n-1)*ldb+k {
			panic(shortB)
		}
	} else if len(b) < (k-1)*ldb+n {
		panic(shortB)
	}
	if len(c) < (m-1)*ldc+n {
		panic(shortC)
	}
	return
}

// scaleC sets C = beta*C; beta == 0 writes zeros.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
