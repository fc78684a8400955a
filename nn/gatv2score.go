package nn

import (
	"fmt"
	"hash"
	"hash/fnv"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// gatv2Scores returns GATv2's attention logits in one op, for every edge e = j -> i of a and
// head h of width c:
//
//	out[e, h] = sum_f att[h*c+f] * LeakyReLU( xl[j, h*c+f] + xr[i, h*c+f] )
//
// xl is (a.NumSrc, H*c), xr (a.NumDst, H*c), att (H*c, 1); out is (E, H). It is the fused form of
// Edges.SrcAddDst, LeakyReLU and the per-head dot product, with no (E, H*c) intermediate in
// either direction: the backward ops recompute the pre-activation per edge. Rows are split
// among goroutines by destination (and by source for the gradient of xl, over the transpose),
// and the attention vector's gradient is summed per fixed block of destinations and then in
// block order, so results are the same for any number of goroutines.
func gatv2Scores(a *graph.CSR, xl, xr, att *G.Node, heads int, slope float64) (*G.Node, error) {
	if a.NumEdges() == 0 {
		return nil, errNoEdges
	}
	hc := att.Shape()[0]
	for _, in := range []struct {
		n    *G.Node
		rows int
		what string
	}{{xl, a.NumSrc, "source features"}, {xr, a.NumDst, "destination features"}, {att, hc, "attention vector"}} {
		if s := in.n.Shape(); len(s) != 2 || s[0] != in.rows || (in.n != att && s[1] != hc) || (in.n == att && s[1] != 1) {
			return nil, fmt.Errorf("nn: GATv2 scores: %s of shape %v on a graph of %d sources and %d destinations with %d heads of %d", in.what, s, a.NumSrc, a.NumDst, heads, hc/heads)
		}
	}
	return G.ApplyOp(&gatv2ScoreOp{a: a, heads: heads, slope: slope, grad: -1}, xl, xr, att)
}

// gatv2ScoreOp is the forward (grad < 0) or the gradient with respect to input grad (0: xl,
// 1: xr, 2: att; inputs xl, xr, att and the output gradient). The gradients of xr and att come
// from one pass over the destinations: the xr op leaves att's in back, and the att op, which
// takes the xr gradient as a fifth input so that it runs after it, returns it.
type gatv2ScoreOp struct {
	a     *graph.CSR
	heads int
	slope float64
	grad  int
	back  *gatv2Back
	// last is the output of the previous run, reused by the next (as package ops does: the
	// tape machine drops its registers on Reset, and a GNN's outputs are large). A node's
	// value is valid until the next run.
	last *tensor.Dense
}

// gatv2Back carries the attention vector's gradient from the xr gradient op to the att one.
type gatv2Back struct{ att *tensor.Dense }

var (
	_ G.SDOp = (*gatv2ScoreOp)(nil)
	_ G.Op   = (*gatv2ScoreOp)(nil)
)

var gatv2Matrix = G.TensorType{Dims: 2, Of: hm.TypeVariable('a')}

func (o *gatv2ScoreOp) Arity() int {
	switch o.grad {
	case -1:
		return 3
	case 2:
		return 5
	}
	return 4
}

func (o *gatv2ScoreOp) Type() hm.Type {
	ts := make([]hm.Type, o.Arity()+1)
	for i := range ts {
		ts[i] = gatv2Matrix
	}
	return hm.NewFnType(ts...)
}

func (o *gatv2ScoreOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	if len(ns) < 3 {
		return nil, fmt.Errorf("nn: %s: %d inputs, want at least 3", o, len(ns))
	}
	s, ok := ns[o.shapeOf()].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("nn: %s: input %d has no shape", o, o.shapeOf())
	}
	if o.grad < 0 {
		return tensor.Shape{o.a.NumEdges(), o.heads}, nil
	}
	return s.Clone(), nil
}

// shapeOf is the input whose shape the output has (the forward: any).
func (o *gatv2ScoreOp) shapeOf() int {
	if o.grad < 0 {
		return 0
	}
	return o.grad
}

func (o *gatv2ScoreOp) ReturnsPtr() bool     { return false }
func (o *gatv2ScoreOp) CallsExtern() bool    { return false }
func (o *gatv2ScoreOp) OverwritesInput() int { return -1 }
func (o *gatv2ScoreOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "gatv2_scores(%p,%d,%v,%d,%p)", o.a, o.heads, o.slope, o.grad, o.back)
}
func (o *gatv2ScoreOp) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}
func (o *gatv2ScoreOp) String() string {
	if o.grad < 0 {
		return "gatv2_scores"
	}
	return fmt.Sprintf("gatv2_scores_grad%d", o.grad)
}

func (o *gatv2ScoreOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = o.grad < 0 && i < 3
	}
	return d
}

func (o *gatv2ScoreOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if o.grad >= 0 {
		return nil, fmt.Errorf("nn: %s has no second derivative", o)
	}
	out := make(G.Nodes, 3)
	shared := &gatv2Back{}
	args := G.Nodes{inputs[0], inputs[1], inputs[2], grad}
	for _, k := range []int{0, 1, 2} {
		var err error
		back := &gatv2ScoreOp{a: o.a, heads: o.heads, slope: o.slope, grad: k, back: shared}
		if k == 2 {
			args = append(args, out[1]) // after the xr gradient, which computes this one
		}
		if out[k], err = G.ApplyOp(back, args...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (o *gatv2ScoreOp) Do(vals ...G.Value) (G.Value, error) {
	if len(vals) != o.Arity() {
		return nil, fmt.Errorf("nn: %s: %d inputs, want %d", o, len(vals), o.Arity())
	}
	ts := make([]*tensor.Dense, len(vals))
	for k, v := range vals {
		t, ok := v.(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("nn: %s: input %d is %T, want a dense tensor", o, k, v)
		}
		ts[k] = t
	}
	shape := tensor.Shape{o.a.NumEdges(), o.heads}
	if o.grad >= 0 {
		shape = ts[o.grad].Shape().Clone()
	}
	if o.grad == 2 {
		if o.back.att == nil {
			return nil, fmt.Errorf("nn: %s ran before the gradient of xr", o)
		}
		return o.back.att.Clone().(*tensor.Dense), nil
	}
	out := reuse(&o.last, shape, ts[0].Dtype())
	if o.grad == 1 {
		o.back.att = reuse(&o.back.att, ts[2].Shape(), ts[0].Dtype())
	}
	switch ts[0].Dtype() {
	case tensor.Float32:
		k := gatv2Kernel[float32]{a: o.a, heads: o.heads, slope: float32(o.slope), xl: ts[0].Float32s(), xr: ts[1].Float32s(), att: ts[2].Float32s()}
		k.run(o.grad, ts, out.Float32s(), o.back, func(t *tensor.Dense) []float32 { return t.Float32s() })
	case tensor.Float64:
		k := gatv2Kernel[float64]{a: o.a, heads: o.heads, slope: o.slope, xl: ts[0].Float64s(), xr: ts[1].Float64s(), att: ts[2].Float64s()}
		k.run(o.grad, ts, out.Float64s(), o.back, func(t *tensor.Dense) []float64 { return t.Float64s() })
	default:
		return nil, fmt.Errorf("nn: %s: dtype %v, want float32 or float64", o, ts[0].Dtype())
	}
	return out, nil
}

// reuse returns *last zeroed when it has the shape and dtype, else a new zero tensor kept in
// *last.
func reuse(last **tensor.Dense, shape tensor.Shape, dt tensor.Dtype) *tensor.Dense {
	if t := *last; t != nil && t.Dtype() == dt && t.Shape().Eq(shape) {
		t.Zero()
		return t
	}
	*last = tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
	return *last
}

type gatv2Kernel[T float32 | float64] struct {
	a           *graph.CSR
	heads       int
	slope       T
	xl, xr, att []T
}

func (k *gatv2Kernel[T]) run(grad int, ts []*tensor.Dense, out []T, back *gatv2Back, data func(*tensor.Dense) []T) {
	switch grad {
	case -1:
		k.forward(out)
	case 0:
		k.gradSrc(data(ts[3]), out)
	case 1:
		k.gradDstAtt(data(ts[3]), out, data(back.att))
	}
}

// forward writes out[e, h].
func (k *gatv2Kernel[T]) forward(out []T) {
	a, H := k.a, k.heads
	hc := len(k.att)
	c := hc / H
	inBlocks(a.NumDst, a.NumEdges()*hc, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xr := k.xr[i*hc : (i+1)*hc : (i+1)*hc]
			for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
				j := int(a.ColIdx[e])
				xl := k.xl[j*hc : (j+1)*hc : (j+1)*hc]
				o := out[e*H : (e+1)*H : (e+1)*H]
				for h := range o {
					o[h] = leakyDot(k.att[h*c:(h+1)*c], xl[h*c:(h+1)*c], xr[h*c:(h+1)*c], k.slope)
				}
			}
		}
	})
}

// leakyDot returns sum_f att[f] LeakyReLU(xl[f] + xr[f]).
func leakyDot[T float32 | float64](att, xl, xr []T, slope T) T {
	xl, xr = xl[:len(att)], xr[:len(att)]
	scale := [2]T{1, slope}
	var s T
	for f, w := range att {
		v := xl[f] + xr[f]
		s += w * v * scale[b2i(v < 0)]
	}
	return s
}

// b2i is 1 for true and 0 for false, compiled without a branch: the signs of the
// pre-activations are random, and a mispredicted branch per element costs several times the
// arithmetic.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// addLeakyGrad adds g att[f] LeakyReLU'(xl[f] + xr[f]) to dst[f]: the gradient of leakyDot
// with respect to xl (and to xr), scaled by g.
func addLeakyGrad[T float32 | float64](dst, att, xl, xr []T, g, slope T) {
	xl, xr, dst = xl[:len(att)], xr[:len(att)], dst[:len(att)]
	d := [2]T{g, g * slope}
	for f, w := range att {
		dst[f] += d[b2i(xl[f]+xr[f] < 0)] * w
	}
}

// gradSrc: dxl[j] = sum over the out-edges e of j of the pre-activation gradient of e, over the
// transpose so that each source row is summed by one goroutine in a fixed order.
func (k *gatv2Kernel[T]) gradSrc(g, out []T) {
	a, H := k.a, k.heads
	hc := len(k.att)
	c := hc / H
	tr := a.Transpose()
	rev := tr.Graph
	inBlocks(rev.NumDst, a.NumEdges()*hc, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			row := out[j*hc : (j+1)*hc : (j+1)*hc]
			xl := k.xl[j*hc : (j+1)*hc : (j+1)*hc]
			for t := rev.RowPtr[j]; t < rev.RowPtr[j+1]; t++ {
				e, i := int(tr.Edge[t]), int(rev.ColIdx[t])
				xr := k.xr[i*hc : (i+1)*hc : (i+1)*hc]
				for h := 0; h < H; h++ {
					addLeakyGrad(row[h*c:(h+1)*c], k.att[h*c:(h+1)*c], xl[h*c:(h+1)*c], xr[h*c:(h+1)*c], g[e*H+h], k.slope)
				}
			}
		}
	})
}

// gradDstAtt: dxr[i] = sum over the in-edges e of i of the pre-activation gradient of e, and
// datt[f] = sum over edges of g[e, head of f] LeakyReLU(pre[e, f]), summed per block of
// destinations and then over the blocks in order.
func (k *gatv2Kernel[T]) gradDstAtt(g, dxr, datt []T) {
	a, H := k.a, k.heads
	hc := len(k.att)
	c := hc / H
	nb := (a.NumDst + attBlock - 1) / attBlock
	partial := make([]T, nb*hc)
	inBlocks(nb, a.NumEdges()*hc, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			p := partial[b*hc : (b+1)*hc : (b+1)*hc]
			for i := b * attBlock; i < min((b+1)*attBlock, a.NumDst); i++ {
				row := dxr[i*hc : (i+1)*hc : (i+1)*hc]
				xr := k.xr[i*hc : (i+1)*hc : (i+1)*hc]
				for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
					j := int(a.ColIdx[e])
					xl := k.xl[j*hc : (j+1)*hc : (j+1)*hc]
					for h := 0; h < H; h++ {
						lo, hi := h*c, (h+1)*c
						addLeakyGrads(row[lo:hi], p[lo:hi], k.att[lo:hi], xl[lo:hi], xr[lo:hi], g[e*H+h], k.slope)
					}
				}
			}
		}
	})
	for b := 0; b < nb; b++ {
		for f := 0; f < hc; f++ {
			datt[f] += partial[b*hc+f]
		}
	}
}

// addLeakyGrads adds, for v = xl + xr, g att LeakyReLU'(v) to dx and g LeakyReLU(v) to datt.
func addLeakyGrads[T float32 | float64](dx, datt, att, xl, xr []T, g, slope T) {
	xl, xr, dx, datt = xl[:len(att)], xr[:len(att)], dx[:len(att)], datt[:len(att)]
	d := [2]T{g, g * slope}
	for f, w := range att {
		v := xl[f] + xr[f]
		s := d[b2i(v < 0)]
		dx[f] += s * w
		datt[f] += s * v
	}
}

// attBlock is the number of destinations whose attention gradient is summed together.
const attBlock = 256

// inBlocks calls fn on ranges covering [0, n), on up to GOMAXPROCS goroutines when the work is
// large enough to pay for them. Each index belongs to exactly one range and the result of a
// range does not depend on the others, so the split does not change the result.
func inBlocks(n, work int, fn func(lo, hi int)) {
	w := runtime.GOMAXPROCS(0)
	if w == 1 || work < 1<<15 || n < 2 {
		fn(0, n)
		return
	}
	chunk := max(1, n/(4*w))
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < w; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				fn(lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}
