package expenv

import (
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/blas"
)

// TestOptsIntoBLAS: a program linking expenv (every experiment) runs on the project's SGEMM.
func TestOptsIntoBLAS(t *testing.T) {
	if _, ok := G.WhichBLAS().(blas.Implementation); !ok {
		t.Errorf("Gorgonia's BLAS is %T, want blas.Implementation", G.WhichBLAS())
	}
	if _, ok := blas32.Implementation().(blas.Implementation); !ok {
		t.Errorf("blas32's BLAS is %T, want blas.Implementation", blas32.Implementation())
	}
}
