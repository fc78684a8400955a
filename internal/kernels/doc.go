// Package kernels holds every SIMD kernel of the module and the one place that picks them: the
// vector and gather loops behind package ops/asm (and through it ops and search; hnsw and search
// reach the distances through internal/vecmath), the SGEMM micro-kernel and the helpers only
// package blas needs (GemmStreamF32, StoreFence, PrefetchL2F32, SpinCycles), and the F16C and
// INT8 kernels of package quant. Being internal, none of it is public API: ops/asm is the public
// face of the ops kernels.
//
// Each kernel has an AVX2+FMA version, and most an AVX-512 one, in Go assembly generated with
// avo by the module ops/asm/_gen (make asm; make asm-check fails on a stale file), and the plain
// Go loop of ref.go or ref_quant.go, which is both the test oracle and the "generic" backend.
// The backend is chosen once, at start-up, from the CPU features that golang.org/x/sys/cpu
// reports (which include the OS's support for the register state), in dispatch_amd64.go; the
// environment variable GOGNN_ASM=generic|avx2|avx512 is read there, once, and can force a lower
// backend than the CPU offers, never a higher one. Backend names the backend in use. The F16C
// conversions need only AVX and F16C and run unless GOGNN_ASM=generic; the INT8 kernels run
// with the AVX2 backend or higher. Built with the tag noasm, or on other architectures, only
// the generic backend exists.
//
// Summation order: the kernels add the rows of a gather in the order given, as the reference
// does, but use fused multiply-add, and Dot splits its sum over several accumulators, so results
// can differ from the reference in the last bits. GatherMax, Scale and the F16C conversions are
// exact.
//
// The exported functions check their arguments (lengths, and every row index against len(x))
// before entering assembly and panic on a violation: no kernel reads or writes outside the
// slices it is given. Slices passed to one call must not overlap, except x and y of Axpy being
// the same slice.
package kernels
