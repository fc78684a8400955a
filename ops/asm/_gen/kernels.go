package main

import (
	"fmt"
	"strings"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// isa describes one backend. Both backends share the kernel shapes below; they differ in the
// vector width, in how many accumulators fit in the register file and in how a row tail
// shorter than a vector is handled (opmask registers on AVX-512, VMASKMOV on AVX2).
type isa struct {
	name     string // function name suffix
	file     string // output file
	vbytes   int    // bytes per vector register
	zmm      bool   // AVX-512: ZMM registers and opmask tails
	maxVecs  int    // accumulators per GatherMax block (each needs an arg register too)
	requires string // for the doc comments
}

var (
	avx2   = isa{"AVX2", "avx2_amd64.s", 32, false, 4, "AVX2 and FMA"}
	avx512 = isa{"AVX512", "avx512_amd64.s", 64, true, 8, "AVX512F"}
	quant  = isa{name: "quant", file: "quant_amd64.s"} // quantKernels: F16C, and AVX2 for INT8
)

// sumBlock is the number of accumulators of a GatherSum and the unroll of Axpy, Dot and Scale:
// 8 vectors hold 64 (AVX2) or 128 (AVX-512) float32s, a typical feature width in one pass.
const sumBlock = 8

// elem describes the element type.
type elem struct {
	name   string // F32 or F64
	gotype string
	size   int
	shift  uint8 // log2(size)
}

var (
	f32 = elem{"F32", "float32", 4, 2}
	f64 = elem{"F64", "float64", 8, 3}
)

// kgen emits the kernels of one element type into one backend's file.
type kgen struct {
	*build.Context
	isa
	elem
	table  operand.Mem       // tail mask table of the file
	kmask  reg.OpmaskVirtual // AVX-512 tail mask
	vmask  reg.VecVirtual    // AVX2 tail mask, lanes of the element size
	imask  reg.VecVirtual    // AVX2 tail mask for int32 lanes of a float64 kernel (XMM)
	labels int
}

// kernels writes every kernel of isa into ctx.
func kernels(ctx *build.Context, isa isa) {
	var table operand.Mem
	if isa.zmm {
		// kmask<>[n] has the low n bits set: the opmask of a tail of n elements.
		table = ctx.StaticGlobal("kmask")
		ctx.DataAttributes(build.RODATA | build.NOPTR)
		for n := 0; n <= 16; n++ {
			ctx.AppendDatum(operand.U16(1<<n - 1))
		}
	} else {
		// 32 bytes of ones then 32 of zeros: the 32 bytes at tailmask<>+32-n*size select the
		// first n lanes of a vector of elements of that size.
		table = ctx.StaticGlobal("tailmask")
		ctx.DataAttributes(build.RODATA | build.NOPTR)
		for i := 0; i < 4; i++ {
			ctx.AppendDatum(operand.U64(^uint64(0)))
		}
		for i := 0; i < 4; i++ {
			ctx.AppendDatum(operand.U64(0))
		}
	}
	for _, e := range []elem{f32, f64} {
		g := &kgen{Context: ctx, isa: isa, elem: e, table: table}
		g.axpy()
		g.dot()
		if e == f32 {
			g.l2Squared()
		}
		if e == f32 && !isa.zmm {
			// SGEMM has an AVX2 kernel only; the AVX-512 backend dispatches to it.
			g.gemmKernel()
			g.prefetch("prefetch", false)
			g.prefetch("prefetchL2", true)
			g.spinCycles()
			g.gatSoftmax8(g.gatConstTable())
			g.gatherSumHeads8()
		}
		g.scale()
		g.gatherSum()
		g.gatherMax()
	}
}

func (g *kgen) lanes() int { return g.vbytes / g.size }

func (g *kgen) label(s string) string {
	g.labels++
	return fmt.Sprintf("%s%d", s, g.labels)
}

// function starts a kernel; sig is a signature format with %[1]s for the element type.
func (g *kgen) function(base, sig, doc string) {
	name := base + g.elem.name + g.isa.name
	g.Function(name)
	g.Attributes(build.NOSPLIT)
	g.SignatureExpr(fmt.Sprintf(sig, g.gotype))
	g.Pragma("noescape")
	text := fmt.Sprintf("%s is %s%s for CPUs with %s.", name, upper(base), g.elem.name, g.requires)
	if doc != "" {
		text += " " + doc
	}
	g.Doc(text)
	g.labels = 0
}

func upper(s string) string {
	if strings.HasPrefix(s, "gat") && !strings.HasPrefix(s, "gather") {
		return "GAT" + s[3:] // an initialism
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func (g *kgen) vec() reg.VecVirtual {
	if g.zmm {
		return g.ZMM()
	}
	return g.YMM()
}

func mem(base reg.Register, disp int) operand.Mem { return operand.Mem{Base: base, Disp: disp} }

// rowMem addresses vector i of the row at byte offset off from the chunk pointer base.
func (g *kgen) rowMem(base, off reg.Register, i int) operand.Mem {
	return operand.Mem{Base: base, Index: off, Scale: 1, Disp: i * g.vbytes}
}

func (g *kgen) movu(src, dst operand.Op) {
	if g.size == 4 {
		g.VMOVUPS(src, dst)
	} else {
		g.VMOVUPD(src, dst)
	}
}

func (g *kgen) fma(m, a, acc operand.Op) {
	if g.size == 4 {
		g.VFMADD231PS(m, a, acc)
	} else {
		g.VFMADD231PD(m, a, acc)
	}
}

func (g *kgen) add(m, a, dst operand.Op) {
	if g.size == 4 {
		g.VADDPS(m, a, dst)
	} else {
		g.VADDPD(m, a, dst)
	}
}

func (g *kgen) mul(m, a, dst operand.Op) {
	if g.size == 4 {
		g.VMULPS(m, a, dst)
	} else {
		g.VMULPD(m, a, dst)
	}
}

func (g *kgen) broadcast(m, dst operand.Op) {
	if g.size == 4 {
		g.VBROADCASTSS(m, dst)
	} else {
		g.VBROADCASTSD(m, dst)
	}
}

func (g *kgen) zero(r reg.VecVirtual) {
	if g.zmm {
		// VEX-encoded XORs cannot name Z16-Z31; the EVEX form of VPXORD can.
		g.VPXORD(r, r, r)
	} else {
		g.VXORPS(r, r, r)
	}
}

// setTail loads the masks for a tail of n (1 <= n < lanes) elements.
func (g *kgen) setTail(n reg.GPVirtual, intMask bool) {
	tbl := g.GP64()
	g.LEAQ(g.table, tbl)
	if g.zmm {
		g.kmask = g.K()
		g.KMOVW(operand.Mem{Base: tbl, Index: n, Scale: 2}, g.kmask)
		return
	}
	off := g.GP64()
	g.MOVQ(n, off)
	g.SHLQ(operand.U8(g.shift), off)
	g.NEGQ(off)
	g.vmask = g.YMM()
	g.VMOVDQU(operand.Mem{Base: tbl, Index: off, Scale: 1, Disp: 32}, g.vmask)
	if intMask && g.size == 8 {
		g.MOVQ(n, off)
		g.SHLQ(operand.U8(2), off)
		g.NEGQ(off)
		g.imask = g.XMM()
		g.VMOVDQU(operand.Mem{Base: tbl, Index: off, Scale: 1, Disp: 32}, g.imask)
	}
}

// loadTail loads the first n lanes of m into dst and zeroes the others. Masked lanes are not
// read, so a tail at the end of a mapping cannot fault.
func (g *kgen) loadTail(m operand.Mem, dst reg.VecVirtual) {
	switch {
	case g.zmm && g.size == 4:
		g.VMOVUPS_Z(m, g.kmask, dst)
	case g.zmm:
		g.VMOVUPD_Z(m, g.kmask, dst)
	case g.size == 4:
		g.VMASKMOVPS(m, g.vmask, dst)
	default:
		g.VMASKMOVPD(m, g.vmask, dst)
	}
}

// storeTail stores the first n lanes of src to m.
func (g *kgen) storeTail(src reg.VecVirtual, m operand.Mem) {
	switch {
	case g.zmm && g.size == 4:
		g.VMOVUPS(src, g.kmask, m)
	case g.zmm:
		g.VMOVUPD(src, g.kmask, m)
	case g.size == 4:
		g.VMASKMOVPS(src, g.vmask, m)
	default:
		g.VMASKMOVPD(src, g.vmask, m)
	}
}

func (g *kgen) ret() {
	g.VZEROUPPER()
	g.RET()
}

// streaming emits the loop shape shared by Axpy, Dot and Scale: blocks of sumBlock vectors,
// then single vectors, then one masked tail. body(off, nvec) handles nvec vectors at byte offset
// off of every pointer; tail() handles the masked rest. ptrs advance together, n counts down.
func (g *kgen) streaming(n reg.GPVirtual, ptrs []reg.GPVirtual, body func(nvec int), tail func()) {
	big, one, rest, done := g.label("big"), g.label("one"), g.label("tail"), g.label("done")
	advance := func(nvec int) {
		for _, p := range ptrs {
			g.ADDQ(operand.U32(nvec*g.vbytes), p)
		}
		g.SUBQ(operand.U32(nvec*g.lanes()), n)
	}
	g.Label(big)
	g.CMPQ(n, operand.U32(sumBlock*g.lanes()))
	g.JB(operand.LabelRef(one))
	body(sumBlock)
	advance(sumBlock)
	g.JMP(operand.LabelRef(big))

	g.Label(one)
	g.CMPQ(n, operand.U32(g.lanes()))
	g.JB(operand.LabelRef(rest))
	body(1)
	advance(1)
	g.JMP(operand.LabelRef(one))

	g.Label(rest)
	g.TESTQ(n, n)
	g.JZ(operand.LabelRef(done))
	g.setTail(n, false)
	tail()
	g.Label(done)
}

func (g *kgen) axpy() {
	g.function("axpy", "func(alpha %[1]s, x, y []%[1]s)",
		"The wrapper checks len(y) >= len(x) > 0.")
	alpha, _ := g.Param("alpha").Resolve()
	a := g.vec()
	g.broadcast(alpha.Addr, a)
	x := g.Load(g.Param("x").Base(), g.GP64()).(reg.GPVirtual)
	y := g.Load(g.Param("y").Base(), g.GP64()).(reg.GPVirtual)
	n := g.Load(g.Param("x").Len(), g.GP64()).(reg.GPVirtual)
	g.streaming(n, []reg.GPVirtual{x, y}, func(nvec int) {
		// Load every vector of y before the first store, so the block's loads all issue early.
		t := make([]reg.VecVirtual, nvec)
		for i := range t {
			t[i] = g.vec()
			g.movu(mem(y, i*g.vbytes), t[i])
		}
		for i := range t {
			g.fma(mem(x, i*g.vbytes), a, t[i])
		}
		for i := range t {
			g.movu(t[i], mem(y, i*g.vbytes))
		}
	}, func() {
		t, u := g.vec(), g.vec()
		g.loadTail(mem(y, 0), t)
		g.loadTail(mem(x, 0), u)
		g.fma(u, a, t)
		g.storeTail(t, mem(y, 0))
	})
	g.ret()
}

func (g *kgen) scale() {
	g.function("scale", "func(alpha %[1]s, x []%[1]s)", "The wrapper checks len(x) > 0.")
	alpha, _ := g.Param("alpha").Resolve()
	a := g.vec()
	g.broadcast(alpha.Addr, a)
	x := g.Load(g.Param("x").Base(), g.GP64()).(reg.GPVirtual)
	n := g.Load(g.Param("x").Len(), g.GP64()).(reg.GPVirtual)
	g.streaming(n, []reg.GPVirtual{x}, func(nvec int) {
		t := make([]reg.VecVirtual, nvec)
		for i := range t {
			t[i] = g.vec()
			g.mul(mem(x, i*g.vbytes), a, t[i])
		}
		for i := range t {
			g.movu(t[i], mem(x, i*g.vbytes))
		}
	}, func() {
		t := g.vec()
		g.loadTail(mem(x, 0), t)
		g.mul(t, a, t)
		g.storeTail(t, mem(x, 0))
	})
	g.ret()
}

func (g *kgen) dot() {
	g.pairReduction("dot", func(t reg.VecVirtual, y operand.Op, acc reg.VecVirtual) {
		g.fma(y, t, acc)
	})
}

// l2Squared is dot's loop on the differences: acc += (x-y)*(x-y). A masked tail loads zeros in
// both operands, so the lanes past the end add nothing.
func (g *kgen) l2Squared() {
	g.pairReduction("l2Squared", func(t reg.VecVirtual, y operand.Op, acc reg.VecVirtual) {
		g.VSUBPS(y, t, t)
		g.fma(t, t, acc)
	})
}

// pairReduction emits the shape shared by Dot and L2Squared: x and y streamed together, step
// adding the term of a vector t of x and the matching operand y of y into one of 4
// accumulators, which are then summed and the scalar returned.
func (g *kgen) pairReduction(base string, step func(t reg.VecVirtual, y operand.Op, acc reg.VecVirtual)) {
	g.function(base, "func(x, y []%[1]s) %[1]s", "The wrapper checks len(y) >= len(x) > 0.")
	x := g.Load(g.Param("x").Base(), g.GP64()).(reg.GPVirtual)
	y := g.Load(g.Param("y").Base(), g.GP64()).(reg.GPVirtual)
	n := g.Load(g.Param("x").Len(), g.GP64()).(reg.GPVirtual)
	// Independent accumulators hide the FMA latency; the loads (two per FMA) bound the rate.
	acc := make([]reg.VecVirtual, 4)
	for i := range acc {
		acc[i] = g.vec()
		g.zero(acc[i])
	}
	g.streaming(n, []reg.GPVirtual{x, y}, func(nvec int) {
		for i := 0; i < nvec; i++ {
			t := g.vec()
			g.movu(mem(x, i*g.vbytes), t)
			step(t, mem(y, i*g.vbytes), acc[i%len(acc)])
		}
	}, func() {
		t, u := g.vec(), g.vec()
		g.loadTail(mem(x, 0), t)
		g.loadTail(mem(y, 0), u)
		step(t, u, acc[0])
	})
	g.add(acc[1], acc[0], acc[0])
	g.add(acc[3], acc[2], acc[2])
	g.add(acc[2], acc[0], acc[0])
	s := g.reduce(acc[0])
	// A VEX store: a legacy MOVSS here, with the upper halves dirty, costs a state transition.
	r, _ := g.ReturnIndex(0).Resolve()
	if g.size == 4 {
		g.VMOVSS(s, r.Addr)
	} else {
		g.VMOVSD(s, r.Addr)
	}
	g.ret()
}

// reduce sums the lanes of v into the low lane of the returned XMM register.
func (g *kgen) reduce(v reg.VecVirtual) reg.Register {
	y := v.AsY()
	if g.zmm {
		h := g.YMM()
		g.VEXTRACTF64X4(operand.U8(1), v, h)
		g.add(h, y, y)
	}
	x := v.AsX()
	h := g.XMM()
	g.VEXTRACTF128(operand.U8(1), y, h)
	g.add(h, x, x)
	if g.size == 4 {
		g.VMOVHLPS(x, x, h)
		g.VADDPS(h, x, x)
		g.VMOVSHDUP(x, h)
		g.VADDSS(h, x, x)
	} else {
		g.VUNPCKHPD(x, x, h)
		g.VADDSD(h, x, x)
	}
	return x
}

// gatherArgs loads the arguments common to both gathers. The Go wrapper has checked every row
// index and guarantees width >= 1 and len(rows) >= 1.
type gatherArgs struct {
	y, x, rem, stride, rows, end reg.GPVirtual
}

func (g *kgen) loadGather() gatherArgs {
	var a gatherArgs
	a.y = g.Load(g.Param("y").Base(), g.GP64()).(reg.GPVirtual)
	a.x = g.Load(g.Param("x").Base(), g.GP64()).(reg.GPVirtual)
	a.rem = g.Load(g.Param("width"), g.GP64()).(reg.GPVirtual)
	a.rows = g.Load(g.Param("rows").Base(), g.GP64()).(reg.GPVirtual)
	n := g.Load(g.Param("rows").Len(), g.GP64()).(reg.GPVirtual)
	a.stride = g.GP64()
	g.MOVQ(a.rem, a.stride)
	g.SHLQ(operand.U8(g.shift), a.stride)
	a.end = g.GP64()
	g.LEAQ(operand.Mem{Base: a.rows, Index: n, Scale: 4}, a.end)
	return a
}

// rowOffset sets off to the byte offset of the row whose index is at rp.
func (g *kgen) rowOffset(rp, stride, off reg.GPVirtual) {
	g.MOVLQSX(mem(rp, 0), off)
	g.IMULQ(stride, off)
}

// chunks emits the column blocking of a gather: blocks of max vectors while they fit, then one
// block each of max/2, max/4, ..., 1 vectors, then a masked block for the last partial vector.
// block(nvec, masked) computes one block at the current chunk pointers; advance moves them on.
// args asks for the int32 tail mask too (GatherMax stores row indices).
func (g *kgen) chunks(rem reg.GPVirtual, max int, args bool, block func(nvec int, masked bool), advance func(nvec int)) {
	next := g.label("chunk")
	g.Label(next)
	g.CMPQ(rem, operand.U32(max*g.lanes()))
	smaller := g.label("chunk")
	g.JB(operand.LabelRef(smaller))
	block(max, false)
	advance(max)
	g.SUBQ(operand.U32(max*g.lanes()), rem)
	g.JMP(operand.LabelRef(next))
	for nvec := max / 2; nvec >= 1; nvec /= 2 {
		g.Label(smaller)
		smaller = g.label("chunk")
		g.CMPQ(rem, operand.U32(nvec*g.lanes()))
		g.JB(operand.LabelRef(smaller))
		block(nvec, false)
		advance(nvec)
		g.SUBQ(operand.U32(nvec*g.lanes()), rem)
	}
	g.Label(smaller)
	done := g.label("done")
	g.TESTQ(rem, rem)
	g.JZ(operand.LabelRef(done))
	g.setTail(rem, args)
	block(1, true)
	g.Label(done)
	g.ret()
}

func (g *kgen) gatherSum() {
	g.function("gatherSum", "func(y, x []%[1]s, width int, rows []int32, alpha []%[1]s)",
		"The wrapper checks every row index and passes len(rows) >= 1, width >= 1.")
	a := g.loadGather()
	alpha := g.Load(g.Param("alpha").Base(), g.GP64()).(reg.GPVirtual)
	advance := func(nvec int) {
		g.ADDQ(operand.U32(nvec*g.vbytes), a.x)
		g.ADDQ(operand.U32(nvec*g.vbytes), a.y)
	}
	plain := g.label("plain")
	g.TESTQ(alpha, alpha)
	g.JZ(operand.LabelRef(plain))
	g.chunks(a.rem, sumBlock, false, func(nvec int, masked bool) { g.sumBlock(a, alpha, nvec, masked) }, advance)
	g.Label(plain)
	g.chunks(a.rem, sumBlock, false, func(nvec int, masked bool) { g.sumBlock(a, nil, nvec, masked) }, advance)
}

// sumBlock sums nvec vectors of every row into registers and stores them once. With alpha nil
// the rows are added, otherwise scaled by their weight with FMA. The first row initialises
// the accumulators, so no zeroing pass and no extra rounding step.
func (g *kgen) sumBlock(a gatherArgs, alpha reg.GPVirtual, nvec int, masked bool) {
	rp := g.GP64()
	g.MOVQ(a.rows, rp)
	var ap reg.GPVirtual
	var w reg.VecVirtual
	if alpha != nil {
		ap = g.GP64()
		g.MOVQ(alpha, ap)
		w = g.vec()
	}
	off := g.GP64()
	acc := make([]reg.VecVirtual, nvec)
	g.rowOffset(rp, a.stride, off)
	if alpha != nil {
		g.broadcast(mem(ap, 0), w)
	}
	for i := range acc {
		acc[i] = g.vec()
		m := g.rowMem(a.x, off, i)
		switch {
		case masked:
			g.loadTail(m, acc[i])
			if alpha != nil {
				g.mul(acc[i], w, acc[i])
			}
		case alpha != nil:
			g.mul(m, w, acc[i])
		default:
			g.movu(m, acc[i])
		}
	}
	loop, store := g.label("rows"), g.label("store")
	step := func() {
		g.ADDQ(operand.U8(4), rp)
		if alpha != nil {
			g.ADDQ(operand.U8(g.size), ap)
		}
	}
	step()
	g.CMPQ(rp, a.end)
	g.JAE(operand.LabelRef(store))
	g.Label(loop)
	g.rowOffset(rp, a.stride, off)
	if prefetchDist > 0 && !masked {
		g.prefetchRow(a, rp, nvec)
	}
	if alpha != nil {
		g.broadcast(mem(ap, 0), w)
	}
	for i := range acc {
		m := g.rowMem(a.x, off, i)
		var src operand.Op = m
		if masked {
			t := g.vec()
			g.loadTail(m, t)
			src = t
		}
		if alpha != nil {
			g.fma(src, w, acc[i])
		} else {
			g.add(src, acc[i], acc[i])
		}
	}
	step()
	g.CMPQ(rp, a.end)
	g.JB(operand.LabelRef(loop))
	g.Label(store)
	for i := range acc {
		if masked {
			g.storeTail(acc[i], mem(a.y, 0))
		} else {
			g.movu(acc[i], mem(a.y, i*g.vbytes))
		}
	}
}

// prefetchDist is how many rows ahead a GatherSum block prefetches (0: none).
var prefetchDist = 0

// prefetchRow prefetches this block's part of the row prefetchDist rows after rp, or of the
// current row near the end, so that rows[] is never read past its end.
func (g *kgen) prefetchRow(a gatherArgs, rp reg.GPVirtual, nvec int) {
	p, off := g.GP64(), g.GP64()
	g.LEAQ(mem(rp, 4*prefetchDist), p)
	g.CMPQ(p, a.end)
	g.CMOVQCC(rp, p)
	g.rowOffset(p, a.stride, off)
	for line := 0; line < nvec*g.vbytes; line += 64 {
		g.PREFETCHT0(g.rowMem(a.x, off, 0).Offset(line))
	}
}

// Comparison predicates (VEX/EVEX imm8).
const (
	cmpNLEUQ = 0x16 // not (a <= b): true when a > b or either is NaN
	cmpORDQ  = 0x07 // neither is NaN
)

func (g *kgen) gatherMax() {
	g.function("gatherMax", "func(y []%[1]s, arg []int32, x []%[1]s, width int, rows []int32, base int32)",
		"The wrapper checks every row index and passes len(rows) >= 1, width >= 1.")
	a := g.loadGather()
	argp := g.Load(g.Param("arg").Base(), g.GP64()).(reg.GPVirtual)
	b, _ := g.Param("base").Resolve()
	base := g.GP64()
	g.MOVLQSX(b.Addr, base)
	g.chunks(a.rem, g.maxVecs, true, func(nvec int, masked bool) {
		g.maxBlock(a, argp, base, nvec, masked)
	}, func(nvec int) {
		g.ADDQ(operand.U32(nvec*g.vbytes), a.x)
		g.ADDQ(operand.U32(nvec*g.vbytes), a.y)
		g.ADDQ(operand.U32(nvec*g.lanes()*4), argp)
	})
}

// broadcastIndex sets every lane of kv to k (as int32 lanes for float32 kernels, int64 lanes
// for float64 ones, so that the lanes line up with the data for the blends).
func (g *kgen) broadcastIndex(k reg.GPVirtual, kv reg.VecVirtual) {
	switch {
	case g.zmm && g.size == 4:
		g.VPBROADCASTD(k.As32(), kv)
	case g.zmm:
		g.VPBROADCASTQ(k, kv)
	case g.size == 4:
		g.VMOVD(k.As32(), kv.AsX())
		g.VPBROADCASTD(kv.AsX(), kv)
	default:
		g.VMOVQ(k, kv.AsX())
		g.VPBROADCASTQ(kv.AsX(), kv)
	}
}

// maxBlock keeps, per lane, the running maximum and the index of the row that set it. A row
// wins a lane when its value is not NaN and either exceeds the maximum or the maximum is NaN
// (which only the first row can have put there): so ties keep the earlier row and NaN never
// wins against a number.
func (g *kgen) maxBlock(a gatherArgs, argp, base reg.GPVirtual, nvec int, masked bool) {
	rp, k, off := g.GP64(), g.GP64(), g.GP64()
	g.MOVQ(a.rows, rp)
	g.MOVQ(base, k)
	kv := g.vec()
	g.broadcastIndex(k, kv)
	g.rowOffset(rp, a.stride, off)
	acc := make([]reg.VecVirtual, nvec)
	arg := make([]reg.VecVirtual, nvec)
	for i := range acc {
		acc[i], arg[i] = g.vec(), g.vec()
		m := g.rowMem(a.x, off, i)
		if masked {
			g.loadTail(m, acc[i])
		} else {
			g.movu(m, acc[i])
		}
		g.movu(kv, arg[i])
	}
	loop, store := g.label("rows"), g.label("store")
	g.ADDQ(operand.U8(4), rp)
	g.CMPQ(rp, a.end)
	g.JAE(operand.LabelRef(store))
	g.Label(loop)
	g.INCQ(k)
	g.broadcastIndex(k, kv)
	g.rowOffset(rp, a.stride, off)
	for i := range acc {
		m := g.rowMem(a.x, off, i)
		v := g.vec()
		if masked {
			g.loadTail(m, v)
		} else {
			g.movu(m, v)
		}
		g.maxStep(v, kv, acc[i], arg[i])
	}
	g.ADDQ(operand.U8(4), rp)
	g.CMPQ(rp, a.end)
	g.JB(operand.LabelRef(loop))
	g.Label(store)
	for i := range acc {
		ym := mem(a.y, i*g.vbytes)
		am := mem(argp, i*g.lanes()*4)
		if masked {
			g.storeTail(acc[i], ym)
		} else {
			g.movu(acc[i], ym)
		}
		g.storeArg(arg[i], am, masked)
	}
}

func (g *kgen) maxStep(v, kv, acc, arg reg.VecVirtual) {
	if g.zmm {
		ord, win := g.K(), g.K()
		if g.size == 4 {
			g.VCMPPS(operand.U8(cmpORDQ), v, v, ord)
			g.VCMPPS(operand.U8(cmpNLEUQ), acc, v, ord, win)
			g.VMOVUPS(v, win, acc)
			g.VMOVDQU32(kv, win, arg)
		} else {
			g.VCMPPD(operand.U8(cmpORDQ), v, v, ord)
			g.VCMPPD(operand.U8(cmpNLEUQ), acc, v, ord, win)
			g.VMOVUPD(v, win, acc)
			g.VMOVDQU64(kv, win, arg)
		}
		return
	}
	win, ord := g.YMM(), g.YMM()
	if g.size == 4 {
		g.VCMPPS(operand.U8(cmpNLEUQ), acc, v, win)
		g.VCMPPS(operand.U8(cmpORDQ), v, v, ord)
		g.VANDPS(ord, win, win)
		g.VBLENDVPS(win, v, acc, acc)
		g.VBLENDVPS(win, kv, arg, arg)
	} else {
		g.VCMPPD(operand.U8(cmpNLEUQ), acc, v, win)
		g.VCMPPD(operand.U8(cmpORDQ), v, v, ord)
		g.VANDPD(ord, win, win)
		g.VBLENDVPD(win, v, acc, acc)
		g.VBLENDVPD(win, kv, arg, arg)
	}
}

// storeArg stores the int32 row indices of a block; float64 kernels narrow their int64 lanes.
func (g *kgen) storeArg(arg reg.VecVirtual, m operand.Mem, masked bool) {
	switch {
	case g.zmm && g.size == 4 && masked:
		g.VMOVDQU32(arg, g.kmask, m)
	case g.zmm && g.size == 4:
		g.VMOVDQU32(arg, m)
	case g.zmm && masked:
		g.VPMOVQD(arg, g.kmask, m)
	case g.zmm:
		g.VPMOVQD(arg, m)
	case g.size == 4 && masked:
		g.VPMASKMOVD(arg, g.vmask, m)
	case g.size == 4:
		g.VMOVDQU(arg, m)
	default:
		// Gather the low dword of each qword into the low 128 bits.
		g.VPSHUFD(operand.U8(0x08), arg, arg)
		g.VPERMQ(operand.U8(0x08), arg, arg)
		if masked {
			g.VPMASKMOVD(arg.AsX(), g.imask, m)
		} else {
			g.VMOVDQU(arg.AsX(), m)
		}
	}
}
