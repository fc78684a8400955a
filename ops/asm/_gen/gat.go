package main

import (
	"math"

	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The two inner loops of an 8-head GAT layer (GAT's usual configuration): the softmax of one
// node's incoming attention logits, where the 8 heads of an edge are exactly one YMM vector, and
// the per-head weighted sum of its neighbours' rows, where a head of 8 channels is one vector.
// AVX2 only: the AVX-512 backend runs them too (a ZMM would hold two edges, whose logits then
// need a horizontal max and sum across the halves; not worth it at 17 edges per node).

// gatConst is the table of 8-lane constants of the softmax's exp, one 32-byte row each.
type gatConst int

const (
	cLog2e gatConst = iota
	cLn2Hi
	cLn2Lo
	cP6 // 1/720: the Taylor coefficients of e^r on |r| <= ln2/2, highest first
	cP5
	cP4
	cP3
	cP2
	cOne
	cBias // int32 127, the exponent bias
	cMinX // -87: below it e^x underflows float32 and is 0
	nGatConst
)

var gatConstValues = [nGatConst]float32{
	cLog2e: 1.44269504088896341,
	cLn2Hi: 0.693359375,
	cLn2Lo: -2.12194440e-4,
	cP6:    1.0 / 720,
	cP5:    1.0 / 120,
	cP4:    1.0 / 24,
	cP3:    1.0 / 6,
	cP2:    0.5,
	cOne:   1,
	cMinX:  -87,
}

func (g *kgen) gatConstTable() operand.Mem {
	t := g.StaticGlobal("gatconst")
	g.DataAttributes(build.RODATA | build.NOPTR)
	for c := gatConst(0); c < nGatConst; c++ {
		bits := uint64(math.Float32bits(gatConstValues[c]))
		if c == cBias {
			bits = 127
		}
		for i := 0; i < 4; i++ {
			g.AppendDatum(operand.U64(bits | bits<<32))
		}
	}
	return t
}

func (c gatConst) at(t operand.Mem) operand.Mem { return t.Offset(32 * int(c)) }

// gatSoftmax8 emits gatSoftmax8F32AVX2: three passes over one node's edges, each edge's 8 heads
// one vector. Pass 1 writes the LeakyReLU logits and keeps the running maximum, pass 2 replaces
// them by e^(logit - max) and sums them, pass 3 divides by the sum. A NaN logit is kept as the
// maximum when met (VMAXPS returns its second operand on NaN) and makes its head's sum, and so
// the whole head, NaN, as in the Go reference.
func (g *kgen) gatSoftmax8(t operand.Mem) {
	g.function("gatSoftmax8", "func(y, src, dst []%[1]s, rows []int32, slope %[1]s)",
		"The wrapper checks every row index, len(dst) >= 8 and len(y) >= 8*len(rows), and passes len(rows) >= 1.")
	yp0 := g.Load(g.Param("y").Base(), g.GP64()).(reg.GPVirtual)
	src := g.Load(g.Param("src").Base(), g.GP64()).(reg.GPVirtual)
	dp := g.Load(g.Param("dst").Base(), g.GP64()).(reg.GPVirtual)
	rows := g.Load(g.Param("rows").Base(), g.GP64()).(reg.GPVirtual)
	n := g.Load(g.Param("rows").Len(), g.GP64()).(reg.GPVirtual)
	slope, _ := g.Param("slope").Resolve()
	tbl := g.GP64()
	g.LEAQ(t, tbl)
	c := func(k gatConst) operand.Mem { return k.at(mem(tbl, 0)) }

	sv, d, zero, m := g.YMM(), g.YMM(), g.YMM(), g.YMM()
	g.VBROADCASTSS(slope.Addr, sv)
	g.VMOVUPS(mem(dp, 0), d)
	g.VXORPS(zero, zero, zero)
	g.VPCMPEQD(m, m, m)
	g.VPSLLD(operand.U8(23), m, m) // 0xff800000: -Inf in every lane
	yend := g.GP64()
	g.MOVQ(n, yend)
	g.SHLQ(operand.U8(5), yend)
	g.ADDQ(yp0, yend)

	// Pass 1: logits and their maximum.
	rp, yp, off := g.GP64(), g.GP64(), g.GP64()
	g.MOVQ(rows, rp)
	g.MOVQ(yp0, yp)
	logits := g.label("logits")
	g.Label(logits)
	g.MOVLQSX(mem(rp, 0), off)
	g.SHLQ(operand.U8(5), off)
	v, neg, vs := g.YMM(), g.YMM(), g.YMM()
	g.VADDPS(operand.Mem{Base: src, Index: off, Scale: 1}, d, v)
	g.VCMPPS(operand.U8(1), zero, v, neg) // v < 0 (false for NaN, which stays as it is)
	g.VMULPS(sv, v, vs)
	g.VBLENDVPS(neg, vs, v, v)
	g.VMOVUPS(v, mem(yp, 0))
	g.VMAXPS(v, m, m)
	g.ADDQ(operand.U8(4), rp)
	g.ADDQ(operand.U8(32), yp)
	g.CMPQ(yp, yend)
	g.JB(operand.LabelRef(logits))

	// Pass 2: e^(logit - max), summed.
	sum := g.YMM()
	g.VXORPS(sum, sum, sum)
	g.MOVQ(yp0, yp)
	exps := g.label("exps")
	g.Label(exps)
	x := g.YMM()
	g.VMOVUPS(mem(yp, 0), x)
	g.VSUBPS(m, x, x)
	e := g.expNonPositive(x, c)
	g.VMOVUPS(e, mem(yp, 0))
	g.VADDPS(e, sum, sum)
	g.ADDQ(operand.U8(32), yp)
	g.CMPQ(yp, yend)
	g.JB(operand.LabelRef(exps))

	// Pass 3: normalise.
	inv := g.YMM()
	g.VMOVUPS(c(cOne), inv)
	g.VDIVPS(sum, inv, inv)
	g.MOVQ(yp0, yp)
	norm := g.label("norm")
	g.Label(norm)
	w := g.YMM()
	g.VMULPS(mem(yp, 0), inv, w)
	g.VMOVUPS(w, mem(yp, 0))
	g.ADDQ(operand.U8(32), yp)
	g.CMPQ(yp, yend)
	g.JB(operand.LabelRef(norm))
	g.ret()
}

// expNonPositive returns e^x for x <= 0 lane by lane, as the Go reference computes it: k =
// round(x log2 e), r = x - k ln2 in two parts, a degree-6 polynomial for e^r, times 2^k built in
// the exponent bits. Below -87 the result is 0; NaN stays NaN.
func (g *kgen) expNonPositive(x reg.VecVirtual, c func(gatConst) operand.Mem) reg.VecVirtual {
	k, r, p, ki, under, out := g.YMM(), g.YMM(), g.YMM(), g.YMM(), g.YMM(), g.YMM()
	g.VMULPS(c(cLog2e), x, k)
	g.VROUNDPS(operand.U8(0), k, k) // to nearest, ties to even, as the reference's magic number
	g.VMOVAPS(x, r)
	g.VFNMADD231PS(c(cLn2Hi), k, r)
	g.VFNMADD231PS(c(cLn2Lo), k, r)
	g.VMOVUPS(c(cP6), p)
	for _, coef := range []gatConst{cP5, cP4, cP3, cP2, cOne, cOne} {
		g.VFMADD213PS(c(coef), r, p)
	}
	g.VCVTPS2DQ(k, ki)
	g.VPADDD(c(cBias), ki, ki)
	g.VPSLLD(operand.U8(23), ki, ki)
	g.VMULPS(ki, p, p)
	g.VCMPPS(operand.U8(1), c(cMinX), x, under) // x < -87
	g.VANDNPS(p, under, out)
	return out
}

// gatherSumHeads emits gatherSumHeads8F32AVX2: y[8h+j] = sum_k alpha[k*heads+h] *
// x[rows[k]*width + 8h + j], for blocks of 8, 4, 2 and 1 heads, each head one accumulator and
// its weight one broadcast per edge.
func (g *kgen) gatherSumHeads8() {
	g.function("gatherSumHeads8", "func(y, x []%[1]s, width int, rows []int32, alpha []%[1]s, heads int)",
		"The wrapper checks every row index, width >= 8*heads, the lengths of y and alpha, and passes len(rows) >= 1, heads >= 1.")
	yb := g.Load(g.Param("y").Base(), g.GP64()).(reg.GPVirtual)
	xb := g.Load(g.Param("x").Base(), g.GP64()).(reg.GPVirtual)
	stride := g.Load(g.Param("width"), g.GP64()).(reg.GPVirtual)
	rows := g.Load(g.Param("rows").Base(), g.GP64()).(reg.GPVirtual)
	n := g.Load(g.Param("rows").Len(), g.GP64()).(reg.GPVirtual)
	ab := g.Load(g.Param("alpha").Base(), g.GP64()).(reg.GPVirtual)
	rem := g.Load(g.Param("heads"), g.GP64()).(reg.GPVirtual)
	g.SHLQ(operand.U8(2), stride)
	astride := g.GP64()
	g.MOVQ(rem, astride)
	g.SHLQ(operand.U8(2), astride)
	end := g.GP64()
	g.LEAQ(operand.Mem{Base: rows, Index: n, Scale: 4}, end)

	done := g.label("done")
	for _, nv := range []int{8, 4, 2, 1} {
		next := g.label("heads")
		again := g.label("heads")
		g.Label(again)
		g.CMPQ(rem, operand.U8(nv))
		g.JB(operand.LabelRef(next))
		acc := make([]reg.VecVirtual, nv)
		for i := range acc {
			acc[i] = g.YMM()
			g.VXORPS(acc[i], acc[i], acc[i])
		}
		rp, ap, off := g.GP64(), g.GP64(), g.GP64()
		g.MOVQ(rows, rp)
		g.MOVQ(ab, ap)
		loop := g.label("edges")
		g.Label(loop)
		g.MOVLQSX(mem(rp, 0), off)
		g.IMULQ(stride, off)
		for i := range acc {
			w := g.YMM()
			g.VBROADCASTSS(mem(ap, 4*i), w)
			g.VFMADD231PS(operand.Mem{Base: xb, Index: off, Scale: 1, Disp: 32 * i}, w, acc[i])
		}
		g.ADDQ(operand.U8(4), rp)
		g.ADDQ(astride, ap)
		g.CMPQ(rp, end)
		g.JB(operand.LabelRef(loop))
		for i := range acc {
			g.VMOVUPS(acc[i], mem(yb, 32*i))
		}
		g.ADDQ(operand.U32(32*nv), xb)
		g.ADDQ(operand.U32(32*nv), yb)
		g.ADDQ(operand.U8(4*nv), ab)
		g.SUBQ(operand.U8(nv), rem)
		if nv == 8 {
			g.JMP(operand.LabelRef(again))
		} else {
			g.JMP(operand.LabelRef(next))
		}
		g.Label(next)
	}
	g.Label(done)
	g.ret()
}
