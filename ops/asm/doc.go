// Package asm is the public face of the SIMD kernels of sparse neighbour aggregation: Axpy, Dot,
// L2Squared and Scale on vectors, the row gathers GatherSum (weighted sum of feature rows) and
// GatherMax (element-wise maximum with the row that attains it), the two loops of an 8-head GAT
// layer (GATSoftmax8F32, GatherSumHeads8F32), and PrefetchF32.
//
// The kernels themselves, with every other kernel of the module (blas's SGEMM micro-kernel,
// quant's F16C and INT8 kernels), live in the module's internal/kernels package, the one CPU
// dispatch; each function here is one call of its namesake there. Their assembly is generated
// with avo by the module in _gen, the module's one generator (make asm; make asm-check).
//
// Each kernel has an AVX2+FMA version, and most an AVX-512 one, and a plain Go loop that is both
// the test oracle and the "generic" backend. The backend is chosen once, at start-up, from the
// CPU features that golang.org/x/sys/cpu reports (which include the OS's support for the
// register state); Backend names it. The environment variable GOGNN_ASM=generic|avx2|avx512 can
// force a lower backend than the CPU offers, never a higher one. Built with the tag noasm, or on
// other architectures, only the generic backend exists.
//
// Summation order: the kernels add the rows of a gather in the order given, as the reference
// does, but use fused multiply-add, and Dot splits its sum over several accumulators, so results
// can differ from the reference in the last bits. GatherMax and Scale are exact.
//
// The functions check their arguments (lengths, and every row index against len(x)) before
// entering assembly and panic on a violation: no kernel reads or writes outside the slices it
// is given. Slices passed to one call must not overlap, except x and y of Axpy being the same
// slice.
package asm
