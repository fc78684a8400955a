package main

import (
	"fmt"

	"github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// The kernels of package quant (F16C conversions, the INT8 matrix product) go to a file of
// their own: they are dispatched on their own CPU features (F16C needs only AVX).

// quantKernels writes every kernel of package quant into ctx.
func quantKernels(ctx *build.Context) {
	toFloat16(ctx)
	fromFloat16(ctx)
	for _, rows := range []int{4, 1} {
		for _, cols := range []int{16, 8} {
			int8Tile(ctx, rows, cols)
		}
	}
}

// unroll is the number of 8-value vectors converted per iteration of the main loop.
const unroll = 4

// toFloat16 emits toFloat16F16C: VCVTPS2PH with rounding to nearest even (immediate 0, not
// MXCSR) on 8 float32s at a time.
func toFloat16(ctx *build.Context) {
	ctx.Function("toFloat16F16C")
	ctx.Attributes(build.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst []uint16, src []float32)")
	ctx.Doc("toFloat16F16C is ToFloat16 for CPUs with AVX and F16C on the first len(src) &^ 7 values;",
		"the caller converts the rest and guarantees len(dst) >= len(src).")
	convert(ctx, 4, 2, func(v reg.VecVirtual, src, dst Mem) {
		ctx.VMOVUPS(src, v)
		ctx.VCVTPS2PH(U8(0), v, dst)
	})
}

// fromFloat16 emits fromFloat16F16C: VCVTPH2PS, exact, on 8 halves at a time.
func fromFloat16(ctx *build.Context) {
	ctx.Function("fromFloat16F16C")
	ctx.Attributes(build.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(dst []float32, src []uint16)")
	ctx.Doc("fromFloat16F16C is FromFloat16 for CPUs with AVX and F16C on the first len(src) &^ 7",
		"values; the caller converts the rest and guarantees len(dst) >= len(src).")
	convert(ctx, 2, 4, func(v reg.VecVirtual, src, dst Mem) {
		ctx.VCVTPH2PS(src, v)
		ctx.VMOVUPS(v, dst)
	})
}

// convert emits the loops over len(src) &^ 7 values, unroll vectors at a time and then one,
// calling step for each vector of 8 values; ssize and dsize are the element sizes.
func convert(ctx *build.Context, ssize, dsize int, step func(v reg.VecVirtual, src, dst Mem)) {
	dst := ctx.Load(ctx.Param("dst").Base(), ctx.GP64())
	src := ctx.Load(ctx.Param("src").Base(), ctx.GP64())
	n := ctx.Load(ctx.Param("src").Len(), ctx.GP64())
	ctx.ANDQ(I32(-8), n)
	vs := make([]reg.VecVirtual, unroll)
	for i := range vs {
		vs[i] = ctx.YMM()
	}

	ctx.Label("block")
	ctx.CMPQ(n, U32(8*unroll))
	ctx.JB(LabelRef("single"))
	for i, v := range vs {
		step(v, Mem{Base: src, Disp: 8 * ssize * i}, Mem{Base: dst, Disp: 8 * dsize * i})
	}
	ctx.ADDQ(U32(8*ssize*unroll), src)
	ctx.ADDQ(U32(8*dsize*unroll), dst)
	ctx.SUBQ(U32(8*unroll), n)
	ctx.JMP(LabelRef("block"))

	ctx.Label("single")
	ctx.TESTQ(n, n)
	ctx.JZ(LabelRef("done"))
	step(vs[0], Mem{Base: src}, Mem{Base: dst})
	ctx.ADDQ(U32(8*ssize), src)
	ctx.ADDQ(U32(8*dsize), dst)
	ctx.SUBQ(U32(8), n)
	ctx.JMP(LabelRef("single"))

	ctx.Label("done")
	ctx.VZEROUPPER()
	ctx.RET()
}

// int8Tile emits int8Tile<rows>x<cols>AVX2, the inner kernel of MatMulInt8: a tile of rows
// rows and cols columns of y = (x·q)*scales, keeping the tile in registers (rows*cols/8
// accumulators) while it runs over all of k, so that each vector of codes is loaded and
// converted once for all the rows of the tile.
func int8Tile(ctx *build.Context, rows, cols int) {
	ctx.Function(fmt.Sprintf("int8Tile%dx%dAVX2", rows, cols))
	ctx.Attributes(build.NOSPLIT)
	ctx.Pragma("noescape")
	ctx.SignatureExpr("func(y []float32, x []float32, q []int8, scales []float32, in int, out int)")
	ctx.Doc(fmt.Sprintf("int8Tile%dx%dAVX2 sets y[r*out+c] = scales[c] * sum_k x[r*in+k]*q[k*out+c] for r < %d, c < %d,", rows, cols, rows, cols),
		"the sum in the order of k with fused multiply-adds, for CPUs with AVX2 and FMA. The caller",
		"checks the bounds and passes in >= 1.")
	yp := ctx.Load(ctx.Param("y").Base(), ctx.GP64())
	xp := ctx.Load(ctx.Param("x").Base(), ctx.GP64())
	qp := ctx.Load(ctx.Param("q").Base(), ctx.GP64())
	sp := ctx.Load(ctx.Param("scales").Base(), ctx.GP64())
	k := ctx.Load(ctx.Param("in"), ctx.GP64())
	out := ctx.Load(ctx.Param("out"), ctx.GP64())

	// Row r of x is at xp + r*xs; rows 2 and 3 through x2 = xp + 2*xs.
	xs := ctx.GP64()
	ctx.MOVQ(k, xs)
	ctx.SHLQ(U8(2), xs)
	var x2 reg.GPVirtual
	if rows > 2 {
		x2 = ctx.GP64()
		ctx.LEAQ(Mem{Base: xp, Index: xs, Scale: 2}, x2)
	}
	xrow := func(r int) Mem {
		switch r {
		case 0:
			return Mem{Base: xp}
		case 1:
			return Mem{Base: xp, Index: xs, Scale: 1}
		case 2:
			return Mem{Base: x2}
		}
		return Mem{Base: x2, Index: xs, Scale: 1}
	}

	nv := cols / 8
	acc := make([][]reg.VecVirtual, rows)
	for r := range acc {
		acc[r] = make([]reg.VecVirtual, nv)
		for v := range acc[r] {
			acc[r][v] = ctx.YMM()
			ctx.VXORPS(acc[r][v], acc[r][v], acc[r][v])
		}
	}

	ctx.Label("loop")
	qv := make([]reg.VecVirtual, nv)
	for v := range qv {
		qv[v] = ctx.YMM()
		ctx.VPMOVSXBD(Mem{Base: qp, Disp: 8 * v}, qv[v])
		ctx.VCVTDQ2PS(qv[v], qv[v])
	}
	for r := range rows {
		b := ctx.YMM()
		ctx.VBROADCASTSS(xrow(r), b)
		for v := range nv {
			ctx.VFMADD231PS(qv[v], b, acc[r][v])
		}
	}
	ctx.ADDQ(U8(4), xp)
	if rows > 2 {
		ctx.ADDQ(U8(4), x2)
	}
	ctx.ADDQ(out, qp)
	ctx.DECQ(k)
	ctx.JNZ(LabelRef("loop"))

	ctx.SHLQ(U8(2), out) // bytes per row of y
	sv := make([]reg.VecVirtual, nv)
	for v := range sv {
		sv[v] = ctx.YMM()
		ctx.VMOVUPS(Mem{Base: sp, Disp: 32 * v}, sv[v])
	}
	for r := range rows {
		if r > 0 {
			ctx.ADDQ(out, yp)
		}
		for v := range nv {
			ctx.VMULPS(sv[v], acc[r][v], acc[r][v])
			ctx.VMOVUPS(acc[r][v], Mem{Base: yp, Disp: 32 * v})
		}
	}
	ctx.VZEROUPPER()
	ctx.RET()
}
