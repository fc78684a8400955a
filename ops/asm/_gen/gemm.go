package main

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The SGEMM micro-kernel of package blas: a gemmMR x gemmNR tile of C from a k-long row panel of
// A (read at any row and column stride, so A can be packed or read in place) and a packed column
// panel of B (gemmNR contiguous values per k step, steps ldb apart: packed, or B in place).
const (
	gemmMR = 6
	gemmNR = 16
	// gemmUnroll is the unroll of the k loop.
	gemmUnroll = 4
)

// gemmKernel emits the SGEMM kernels: gemmKernelF32AVX2, gemmStreamF32AVX2 and storeFenceAVX2.
func (g *kgen) gemmKernel() {
	g.gemmTile()
	g.gemmStream()
	g.storeFence()
}

// gemmTile emits gemmKernelF32AVX2: 12 YMM accumulators (6 rows x 2 vectors of 8), two B
// vectors loaded per k step and one broadcast of A per row, so each step issues 12 FMAs against
// 8 loads: FMA-bound on a CPU with two FMA pipes and two vector loads per cycle. A is read at
// a + r*rs + p*cs (element units), through two row pointers (rows 0-2 and 3-5) so that every
// row is one base+index*scale address. AVX-512 CPUs run it too: there is no ZMM version yet.
func (g *kgen) gemmTile() {
	g.function("gemmKernel", "func(kc int, a []%[1]s, rs, cs int, b []%[1]s, ldb int, c []%[1]s, ldc int, alpha, beta %[1]s)",
		"The wrapper checks kc >= 0, the strides and that every element read or written is in its slice.")
	kc := g.Load(g.Param("kc"), g.GP64()).(reg.GPVirtual)
	pa := g.Load(g.Param("a").Base(), g.GP64()).(reg.GPVirtual)
	rs := g.Load(g.Param("rs"), g.GP64()).(reg.GPVirtual)
	cs := g.Load(g.Param("cs"), g.GP64()).(reg.GPVirtual)
	pb := g.Load(g.Param("b").Base(), g.GP64()).(reg.GPVirtual)
	ldb := g.Load(g.Param("ldb"), g.GP64()).(reg.GPVirtual)
	pc := g.Load(g.Param("c").Base(), g.GP64()).(reg.GPVirtual)
	ldc := g.Load(g.Param("ldc"), g.GP64()).(reg.GPVirtual)
	g.SHLQ(operand.U8(2), rs)
	g.SHLQ(operand.U8(2), cs)
	g.SHLQ(operand.U8(2), ldc)
	g.SHLQ(operand.U8(2), ldb)
	pa3 := g.GP64() // row 3 of A
	g.LEAQ(operand.Mem{Base: pa, Index: rs, Scale: 2}, pa3)
	g.ADDQ(rs, pa3)

	// Bring the C tile towards L1 while the k loop runs.
	cp := g.GP64()
	g.MOVQ(pc, cp)
	for r := 0; r < gemmMR; r++ {
		g.PREFETCHT0(mem(cp, 0))
		g.PREFETCHT0(mem(cp, 4*gemmNR-4))
		if r < gemmMR-1 {
			g.ADDQ(ldc, cp)
		}
	}

	acc := g.gemmLoop(kc, pa, pa3, rs, cs, pb, ldb, nil)
	g.gemmScale(acc)
	// beta == 0 (ZF set, PF clear: a NaN beta is unordered and takes the general path) stores
	// without reading C, so NaNs in C are overwritten as BLAS specifies.
	beta, _ := g.Param("beta").Resolve()
	bs, zero := g.XMM(), g.XMM()
	g.VMOVSS(beta.Addr, bs)
	g.VXORPS(zero, zero, zero)
	g.VUCOMISS(zero, bs)
	general, store := g.label("beta"), g.label("store")
	g.JNE(operand.LabelRef(general))
	g.JP(operand.LabelRef(general))
	cq := g.GP64()
	g.MOVQ(pc, cq)
	for r := range acc {
		g.VMOVUPS(acc[r][0], mem(cq, 0))
		g.VMOVUPS(acc[r][1], mem(cq, 32))
		if r < gemmMR-1 {
			g.ADDQ(ldc, cq)
		}
	}
	g.JMP(operand.LabelRef(store))
	g.Label(general)
	bv := g.YMM()
	g.VBROADCASTSS(beta.Addr, bv)
	for r := range acc {
		g.VFMADD231PS(mem(pc, 0), bv, acc[r][0])
		g.VFMADD231PS(mem(pc, 32), bv, acc[r][1])
		g.VMOVUPS(acc[r][0], mem(pc, 0))
		g.VMOVUPS(acc[r][1], mem(pc, 32))
		if r < gemmMR-1 {
			g.ADDQ(ldc, pc)
		}
	}
	g.Label(store)
	g.ret()
}

// gemmPrefetch is the region a k loop requests into L1 meanwhile, one line per unrolled
// iteration from p until end (byte addresses).
type gemmPrefetch struct{ p, end reg.GPVirtual }

// gemmLoop emits the k loop of one tile: it zeroes 12 accumulators, then for kc steps (kc
// counts down to 0) adds A(r, p)*B(p, :) for the A rows at pa (0-2) and pa3 (3-5), rs bytes
// apart, advancing by cs bytes per step, and the B row at pb, ldb bytes apart. pa, pa3 and pb
// end past the panel. With pf it also issues a PREFETCHT0 per unrolled iteration while pf.p <
// pf.end, advancing pf.p by a line.
func (g *kgen) gemmLoop(kc, pa, pa3, rs, cs, pb, ldb reg.GPVirtual, pf *gemmPrefetch) [][2]reg.VecVirtual {
	acc := make([][2]reg.VecVirtual, gemmMR)
	for r := range acc {
		for v := range acc[r] {
			acc[r][v] = g.YMM()
			g.VXORPS(acc[r][v], acc[r][v], acc[r][v])
		}
	}
	aMem := func(r int) operand.Mem {
		base := pa
		if r >= 3 {
			base, r = pa3, r-3
		}
		if r == 0 {
			return mem(base, 0)
		}
		return operand.Mem{Base: base, Index: rs, Scale: uint8(r)}
	}
	step := func() {
		b0, b1 := g.YMM(), g.YMM()
		g.VMOVUPS(mem(pb, 0), b0)
		g.VMOVUPS(mem(pb, 32), b1)
		for r := 0; r < gemmMR; r++ {
			t := g.YMM()
			g.VBROADCASTSS(aMem(r), t)
			g.VFMADD231PS(b0, t, acc[r][0])
			g.VFMADD231PS(b1, t, acc[r][1])
		}
		g.ADDQ(cs, pa)
		g.ADDQ(cs, pa3)
		g.ADDQ(ldb, pb)
	}
	big, one, done := g.label("big"), g.label("one"), g.label("done")
	g.Label(big)
	g.CMPQ(kc, operand.U8(gemmUnroll))
	g.JB(operand.LabelRef(one))
	if pf != nil {
		skip := g.label("nopf")
		g.CMPQ(pf.p, pf.end)
		g.JAE(operand.LabelRef(skip))
		g.PREFETCHT0(mem(pf.p, 0))
		g.ADDQ(operand.U8(64), pf.p)
		g.Label(skip)
	}
	for u := 0; u < gemmUnroll; u++ {
		step()
	}
	g.SUBQ(operand.U8(gemmUnroll), kc)
	g.JMP(operand.LabelRef(big))
	g.Label(one)
	g.TESTQ(kc, kc)
	g.JZ(operand.LabelRef(done))
	step()
	g.DECQ(kc)
	g.JMP(operand.LabelRef(one))
	g.Label(done)
	return acc
}

// gemmScale multiplies the accumulators by the parameter alpha.
func (g *kgen) gemmScale(acc [][2]reg.VecVirtual) {
	alpha, _ := g.Param("alpha").Resolve()
	av := g.YMM()
	g.VBROADCASTSS(alpha.Addr, av)
	for r := range acc {
		for v := range acc[r] {
			g.VMULPS(av, acc[r][v], acc[r][v])
		}
	}
}

// gemmStream emits gemmStreamF32AVX2: np tiles side by side, tile q from the B panel at
// b + q*bstep into C at c + q*16, each computed as gemmKernelF32AVX2 does with beta = 0 and
// written with non-temporal stores (VMOVNTPS, whole 64-byte lines): they skip the read for
// ownership of C's lines and leave A and B in the caches. C is not prefetched. One call covers
// a row panel of C (the A panel is loaded once from memory, then read from L1), and requests
// the lines of pf (the next A panel) into L1, one per unrolled k iteration, so that they
// arrive while it computes.
func (g *kgen) gemmStream() {
	g.function("gemmStream", "func(kc int, a []%[1]s, rs, cs int, b []%[1]s, ldb, bstep, np int, c []%[1]s, ldc int, alpha %[1]s, pf []%[1]s)",
		"The wrapper checks what GemmKernelF32's does for every tile, np >= 1 and that c and ldc put every row of a tile on a 64-byte boundary.")
	np := g.Load(g.Param("np"), g.GP64()).(reg.GPVirtual)
	bq := g.Load(g.Param("b").Base(), g.GP64()).(reg.GPVirtual)
	cq := g.Load(g.Param("c").Base(), g.GP64()).(reg.GPVirtual)
	rs := g.Load(g.Param("rs"), g.GP64()).(reg.GPVirtual)
	cs := g.Load(g.Param("cs"), g.GP64()).(reg.GPVirtual)
	ldb := g.Load(g.Param("ldb"), g.GP64()).(reg.GPVirtual)
	g.SHLQ(operand.U8(2), rs)
	g.SHLQ(operand.U8(2), cs)
	g.SHLQ(operand.U8(2), ldb)
	pf := &gemmPrefetch{p: g.Load(g.Param("pf").Base(), g.GP64()).(reg.GPVirtual), end: g.GP64()}
	pfn := g.Load(g.Param("pf").Len(), g.GP64()).(reg.GPVirtual)
	g.LEAQ(operand.Mem{Base: pf.p, Index: pfn, Scale: 4}, pf.end)
	g.ANDQ(operand.I32(-64), pf.p) // the line holding pf[0]

	tile := g.label("tile")
	g.Label(tile)
	kc := g.Load(g.Param("kc"), g.GP64()).(reg.GPVirtual)
	pa := g.Load(g.Param("a").Base(), g.GP64()).(reg.GPVirtual)
	pa3 := g.GP64() // row 3 of A
	g.LEAQ(operand.Mem{Base: pa, Index: rs, Scale: 2}, pa3)
	g.ADDQ(rs, pa3)
	pb := g.GP64()
	g.MOVQ(bq, pb)
	acc := g.gemmLoop(kc, pa, pa3, rs, cs, pb, ldb, pf)
	g.gemmScale(acc)
	ldc := g.Load(g.Param("ldc"), g.GP64()).(reg.GPVirtual)
	g.SHLQ(operand.U8(2), ldc)
	pc := g.GP64()
	g.MOVQ(cq, pc)
	for r := range acc {
		g.VMOVNTPS(acc[r][0], mem(pc, 0))
		g.VMOVNTPS(acc[r][1], mem(pc, 32))
		if r < gemmMR-1 {
			g.ADDQ(ldc, pc)
		}
	}
	bstep := g.Load(g.Param("bstep"), g.GP64()).(reg.GPVirtual)
	g.LEAQ(operand.Mem{Base: bq, Index: bstep, Scale: 4}, bq)
	g.ADDQ(operand.U8(4*gemmNR), cq)
	g.DECQ(np)
	g.JNZ(operand.LabelRef(tile))
	g.ret()
}

// storeFence emits storeFenceAVX2, an SFENCE: the non-temporal stores of gemmStreamF32AVX2
// are weakly ordered, and a goroutine that made them fences before another may read C.
func (g *kgen) storeFence() {
	g.Function("storeFence" + g.isa.name)
	g.Attributes(build.NOSPLIT)
	g.SignatureExpr("func()")
	g.Doc("storeFence" + g.isa.name + " is StoreFence for CPUs with " + g.requires + ": an SFENCE.")
	g.SFENCE()
	g.RET()
}

// spinCycles emits a loop of n iterations, each a chain of 8 dependent integer additions: one
// cycle each on every x86-64 core, so the loop runs about 8n cycles and its duration measures
// the clock (blas.PeakGFLOPS). The additions are register to register: Golden Cove and later
// Intel cores fold chains of additions of an immediate at renaming, faster than one a cycle.
func (g *kgen) spinCycles() {
	g.Function("spinCycles" + g.isa.name)
	g.Attributes(build.NOSPLIT)
	g.SignatureExpr("func(n int) int")
	g.Doc("spinCycles" + g.isa.name + " runs n iterations of 8 dependent 1-cycle additions; it returns a value the caller can ignore.")
	n := g.Load(g.Param("n"), g.GP64()).(reg.GPVirtual)
	x := g.GP64()
	g.XORQ(x, x)
	loop, done := g.label("spin"), g.label("spun")
	g.Label(loop)
	g.TESTQ(n, n)
	g.JZ(operand.LabelRef(done))
	for i := 0; i < 8; i++ {
		g.ADDQ(n, x)
	}
	g.DECQ(n)
	g.JMP(operand.LabelRef(loop))
	g.Label(done)
	g.Store(x, g.ReturnIndex(0))
	g.RET()
}

// prefetch emits a loop issuing a prefetch for every 64-byte line of x: the SGEMM driver
// requests the next panels of A and C into L1 (PREFETCHT0) while the kernel works on the current
// ones, and what the next k block packs into L2 (PREFETCHT1: too much for L1).
func (g *kgen) prefetch(base string, l2 bool) {
	hint := "PREFETCHT0"
	if l2 {
		hint = "PREFETCHT1"
	}
	g.function(base, "func(x []%[1]s)", "The wrapper checks len(x) > 0. It issues "+hint+".")
	p := g.Load(g.Param("x").Base(), g.GP64()).(reg.GPVirtual)
	n := g.Load(g.Param("x").Len(), g.GP64()).(reg.GPVirtual)
	end := g.GP64()
	g.LEAQ(operand.Mem{Base: p, Index: n, Scale: 4}, end)
	g.ANDQ(operand.I32(-64), p) // the line holding x[0]
	loop := g.label("line")
	g.Label(loop)
	if l2 {
		g.PREFETCHT1(mem(p, 0))
	} else {
		g.PREFETCHT0(mem(p, 0))
	}
	g.ADDQ(operand.U8(64), p)
	g.CMPQ(p, end)
	g.JB(operand.LabelRef(loop))
	g.RET()
}
