package main

import "github.com/gnnlab/gognn/blas"

// blasName names the matrix-multiply backend Gorgonia uses in this build.
const blasName = "gognn/blas (AVX2 SGEMM)"

// useBLAS installs the project's SGEMM into Gorgonia; call it before building graphs.
func useBLAS() { blas.Use() }
