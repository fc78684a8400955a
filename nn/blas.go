package nn

import "github.com/gnnlab/gognn/blas"

// The layers' dense products (X W, and the transposed products of their gradients) go through
// Gorgonia's BLAS, by default gonum's pure-Go one; the project's packed AVX2 SGEMM is several
// times faster at the sizes GNN layers multiply (package blas), so it is installed for every
// program that uses the layers.
func init() { blas.Use() }
