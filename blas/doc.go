// Package blas provides a BLAS for Gorgonia whose Sgemm (float32 matrix product) is blocked,
// packed and parallel around an AVX2+FMA micro-kernel, several times faster than gonum's pure
// Go one on the products of dense layers.
//
// Nothing changes until a program opts in: importing this package, or package nn, leaves
// Gorgonia, gorgonia.org/tensor and gonum's blas32 on gonum's pure-Go BLAS. A program opts in
// once, at start-up, before it builds or runs a graph:
//
//	blas.Use() // gorgonia.Use(blas.Implementation{}) (which also calls tensor.Use) and blas32.Use
//
// after which every float32 Mul of a graph, and the transposed products of its gradient, run
// through Implementation.Sgemm (a row vector times a matrix, m == 1, and products of at most
// 256 multiply-adds are passed on to gonum's Sgemm, faster there). All other routines are
// gonum's (Implementation embeds gonum.Implementation). Sgemm checks its arguments as gonum
// does and panics with gonum's messages.
//
// # Design
//
// The micro-kernel (internal/kernels.GemmKernelF32, generated with avo) computes a 6×16 tile of C in 12
// YMM accumulators: per step of k it loads 16 values of a packed B panel (two vectors),
// broadcasts 6 values of A and issues 12 FMAs, 95% of the FMA peak with its operands in L1.
// It reads A at any row and column stride and B at any row stride, so an untransposed A is
// read in place (rows are contiguous in k), and so is an untransposed B of at most 256 columns
// when it serves at most 256 rows of C (the copy would cost more than it saves; wider
// power-of-two strides would crowd a panel into few cache sets). Otherwise A and B are
// packed. Around it, in Go:
//
//   - k is cut into blocks of kcBlock = 256 steps: a B panel (256×16, 16 KB) and an A panel
//     (6×256, 6 KB) share the 32 KB L1 of a Zen 3 core;
//   - n into blocks of ncBlock = 256 columns: the B block (256×256, 256 KB) stays in the
//     512 KB L2 while the row panels of A stream past it;
//   - a transposed A is packed mcBlock = 132 rows at a time (132 KB, also in L2), reading rows
//     of the stored A contiguously;
//   - an A read in place is used panel by panel against every B panel of the block (the A
//     panel comes from memory once, into L1); a packed A block streams past each B panel,
//     which stays in L1, as in BLIS;
//   - panels are padded with zeros to whole tiles; a tile at the bottom or right edge of C is
//     computed into a 6×16 scratch tile and the valid corner copied (with beta applied);
//   - while the kernel works on one row panel, the next panel of A (read in place) and of C
//     are prefetched into L1, and what the next k block will pack into L2 (internal/kernels.PrefetchF32,
//     PrefetchL2F32): the hardware prefetchers do not follow six interleaved rows well;
//   - a C written once and too large to stay cached (beta == 0, k <= kcBlock, at least 2^21
//     elements, rows on 64-byte boundaries: X·W over many nodes) is computed a row panel per
//     call of internal/kernels.GemmStreamF32, which writes it with non-temporal stores (no read for
//     ownership of C's lines, which would be a quarter of the memory traffic, and A and B stay
//     cached) and itself prefetches the next A panel, a line per k iteration, instead of the
//     Go driver's six calls in a burst. Each goroutine ends with kernels.StoreFence. On
//     100000×128×64 this took 58-63% of the peak per CPU-second to 69-78% (2 threads).
//
// A product with a small C (m·n <= 2^16) and a long k (>= 2·8192), such as a weight gradient
// Xᵀ·G over many nodes, is cut along k into chunks of 8192 steps instead: each chunk's
// product goes to a buffer of its own and the buffers are added in chunk order before
// C = alpha·sum + beta·C. The threads then share k instead of each streaming all of B.
//
// beta is applied by the kernel with the first k block (beta == 0 stores without reading C,
// so NaNs in C are overwritten); later k blocks accumulate. alpha == 0 or k == 0 only scales C.
//
// # Threads and determinism
//
// C is cut into runtime.GOMAXPROCS(0) bands of whole tiles, rows or columns, whichever has
// more tiles; each goroutine packs its own panels (pooled, so a single-threaded call does not
// allocate). Products under 2^18 multiply-adds use one goroutine. Every element of C is summed
// by one goroutine in the same order whatever the number of goroutines, and the k-split is
// decided by the shape alone with its chunks added in a fixed order, so results are
// bit-identical for any GOMAXPROCS (TestSgemmThreads); they differ from gonum's in the last
// bits (FMA, blocking).
//
// # Backends
//
// internal/kernels chooses the kernel: AVX2+FMA (also on AVX-512 CPUs: there is no ZMM kernel yet), or
// a pure Go kernel without AVX2, with -tags noasm or on other architectures; GOGNN_ASM=generic
// forces it. PeakGFLOPS states the per-core peak the benchmarks compare with.
package blas
