package ops

import (
	"fmt"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops/asm"
)

// GATSoftmax returns graph attention coefficients from per-node scores in one pass: for edge e
// from j to i and head h,
//
//	alpha[e, h] = softmax over the in-edges e' of i of LeakyReLU(src[j, h] + dst[i, h], slope)
//
// with src of shape (NumSrc, H), dst of shape (NumDst, H) and alpha of shape (E, H) in a's edge
// order. It equals EdgeSoftmax(a, LeakyReLU(EdgeScores(a, src, dst), slope)) without the two
// (E, H) intermediates. The gradient recomputes the logits from src and dst:
//
//	dlogit[e] = alpha[e] (g[e] - sum_{e' into i} alpha[e'] g[e'])
//	dpre[e]   = dlogit[e] * (1 if src[j]+dst[i] > 0 else slope)
//	dsrc[j]   = sum_{e from j} dpre[e]         ddst[i] = sum_{e into i} dpre[e]
func GATSoftmax(a *graph.CSR, src, dst *G.Node, slope float64) (*G.Node, error) {
	if err := checkArgs("GATSoftmax", a, src); err != nil {
		return nil, err
	}
	if err := checkArgs("GATSoftmax", a, dst); err != nil {
		return nil, err
	}
	if slope < 0 || slope != slope {
		return nil, fmt.Errorf("ops: GATSoftmax: negative slope %v must be >= 0", slope)
	}
	return G.ApplyOp(&gatSoftmaxOp{opBase{name: fmt.Sprintf("gat_softmax_%g", slope), g: a}, slope}, src, dst)
}

type gatSoftmaxOp struct {
	opBase
	slope float64
}

func (o *gatSoftmaxOp) Arity() int    { return 2 }
func (o *gatSoftmaxOp) Type() hm.Type { return hm.NewFnType(matrixType, matrixType, matrixType) }

func (o *gatSoftmaxOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	return (&edgeScoresOp{o.opBase}).InferShape(ns...)
}

// nodeScores validates (src, dst) values and returns them with the number of heads.
func (o opBase) nodeScores(vals []G.Value) (src, dst *tensor.Dense, heads int, err error) {
	if src, err = denseArg(o.name, vals, 0, 2); err != nil {
		return
	}
	if dst, err = denseArg(o.name, vals, 1, 2); err != nil {
		return
	}
	if err = checkMatrix(o.name, "source scores", src.Shape(), o.g.NumSrc); err != nil {
		return
	}
	if err = checkMatrix(o.name, "destination scores", dst.Shape(), o.g.NumDst); err != nil {
		return
	}
	heads = src.Shape()[1]
	if dst.Shape()[1] != heads || dst.Dtype() != src.Dtype() {
		err = shapeMismatch(o.name, src, dst)
	}
	return
}

func (o *gatSoftmaxOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *gatSoftmaxOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	src, dst, heads, err := o.nodeScores(vals)
	if err != nil {
		return nil, err
	}
	y := o.output(prealloc, src.Dtype(), tensor.Shape{o.g.NumEdges(), heads}, src, dst)
	switch {
	case src.Dtype() == tensor.Float32 && heads == 8:
		gatSoftmax8(o.g, src.Float32s(), dst.Float32s(), y.Float32s(), float32(o.slope))
	case src.Dtype() == tensor.Float32:
		gatSoftmax(o.g, src.Float32s(), dst.Float32s(), y.Float32s(), heads, float32(o.slope), expF32)
	default:
		gatSoftmax(o.g, src.Float64s(), dst.Float64s(), y.Float64s(), heads, o.slope, math.Exp)
	}
	return y, nil
}

func gatSoftmax[T Float](a *graph.CSR, src, dst, y []T, heads int, slope T, exp func(T) T) {
	forRows(a, 4*heads, func(lo, hi int) {
		m := make([]T, heads)
		sum := make([]T, heads)
		for i := lo; i < hi; i++ {
			e0, e1 := a.RowPtr[i], a.RowPtr[i+1]
			if e0 == e1 {
				continue
			}
			d := dst[i*heads : (i+1)*heads]
			for h := range m {
				m[h] = T(math.Inf(-1))
			}
			for e := e0; e < e1; e++ {
				s := src[int(a.ColIdx[e])*heads:][:heads]
				o := y[e*heads:][:heads]
				for h := range o {
					v := s[h] + d[h]
					if v < 0 {
						v *= slope
					}
					o[h] = v
					if v > m[h] || v != v {
						m[h] = v
					}
				}
			}
			// A group whose maximum is +Inf or NaN yields NaN, as torch.softmax does.
			clear(sum)
			for e := e0; e < e1; e++ {
				o := y[e*heads:][:heads]
				for h := range o {
					v := exp(o[h] - m[h])
					o[h] = v
					sum[h] += v
				}
			}
			for h := range sum {
				sum[h] = 1 / sum[h]
			}
			for e := e0; e < e1; e++ {
				o := y[e*heads:][:heads]
				for h := range o {
					o[h] *= sum[h]
				}
			}
		}
	})
}

// gatSoftmax8 is gatSoftmax for float32 and 8 heads (GAT's usual configuration): each row is
// one call of asm.GATSoftmax8F32, whose kernel holds an edge's 8 heads in one vector.
func gatSoftmax8(a *graph.CSR, src, dst, y []float32, slope float32) {
	forRows(a, 32, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e0, e1 := a.RowPtr[i], a.RowPtr[i+1]
			asm.GATSoftmax8F32(y[e0*8:e1*8], src, dst[i*8:(i+1)*8], a.ColIdx[e0:e1], slope)
		}
	})
}

func (o *gatSoftmaxOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *gatSoftmaxOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	dpre, err := G.ApplyOp(&gatSoftmaxGradOp{opBase{name: o.name + "_grad", g: o.g}, o.slope}, inputs[0], inputs[1], output, grad)
	if err != nil {
		return nil, err
	}
	ds, err := G.ApplyOp(&edgeSumOp{opBase{name: "gat_softmax_grad_src", g: o.g}, true}, dpre)
	if err != nil {
		return nil, err
	}
	dd, err := G.ApplyOp(&edgeSumOp{opBase{name: "gat_softmax_grad_dst", g: o.g}, false}, dpre)
	if err != nil {
		return nil, err
	}
	return G.Nodes{ds, dd}, nil
}

// gatSoftmaxGradOp computes the gradient with respect to the pre-activation edge logits,
// dpre (E, H), from (src, dst, alpha, g).
type gatSoftmaxGradOp struct {
	opBase
	slope float64
}

func (o *gatSoftmaxGradOp) Arity() int { return 4 }
func (o *gatSoftmaxGradOp) Type() hm.Type {
	return hm.NewFnType(matrixType, matrixType, matrixType, matrixType, matrixType)
}

func (o *gatSoftmaxGradOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 2)
	if err != nil {
		return nil, err
	}
	return s.Clone(), nil
}

func (o *gatSoftmaxGradOp) Do(vals ...G.Value) (G.Value, error) {
	return o.UsePreallocDo(nil, vals...)
}

func (o *gatSoftmaxGradOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	src, dst, heads, err := o.nodeScores(vals)
	if err != nil {
		return nil, err
	}
	alpha, err := denseArg(o.name, vals, 2, 2)
	if err != nil {
		return nil, err
	}
	g, err := denseArg(o.name, vals, 3, 2)
	if err != nil {
		return nil, err
	}
	want := tensor.Shape{o.g.NumEdges(), heads}
	if !alpha.Shape().Eq(want) || !g.Shape().Eq(want) || alpha.Dtype() != src.Dtype() || g.Dtype() != src.Dtype() {
		return nil, shapeMismatch(o.name, alpha, g)
	}
	out := o.output(prealloc, src.Dtype(), want, src, dst, alpha, g)
	if src.Dtype() == tensor.Float32 {
		gatSoftmaxBackward(o.g, src.Float32s(), dst.Float32s(), alpha.Float32s(), g.Float32s(), out.Float32s(), heads, float32(o.slope))
	} else {
		gatSoftmaxBackward(o.g, src.Float64s(), dst.Float64s(), alpha.Float64s(), g.Float64s(), out.Float64s(), heads, o.slope)
	}
	return out, nil
}

func gatSoftmaxBackward[T Float](a *graph.CSR, src, dst, alpha, g, out []T, heads int, slope T) {
	forRows(a, 4*heads, func(lo, hi int) {
		dot := make([]T, heads)
		for i := lo; i < hi; i++ {
			e0, e1 := a.RowPtr[i], a.RowPtr[i+1]
			clear(dot)
			for e := e0; e < e1; e++ {
				for h := range dot {
					dot[h] += alpha[e*heads+h] * g[e*heads+h]
				}
			}
			d := dst[i*heads : (i+1)*heads]
			for e := e0; e < e1; e++ {
				s := src[int(a.ColIdx[e])*heads:][:heads]
				for h := range dot {
					k := e*heads + h
					v := alpha[k] * (g[k] - dot[h])
					if s[h]+d[h] < 0 {
						v *= slope
					}
					out[k] = v
				}
			}
		}
	})
}
