package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// HeadDot returns the (R, heads) matrix out[r][h] = sum over c < C of x[r][h*C+c] * att[h*C+c]:
// each row of x (R, heads*C) split into heads blocks of width C, each block dotted with its own
// slice of att, a matrix of heads*C elements ((heads*C, 1) as GAT's attention vectors, or
// (1, heads*C)). It is PyTorch Geometric's (x.view(-1, H, C) * att).sum(-1), the attention score
// of GAT, GATv2 and their kin, in one pass over x where a matrix product with a block-diagonal
// (heads*C, heads) matrix would multiply heads times as many zeros. Gradients:
//
//	dx[r][h*C+c] = dout[r][h] * att[h*C+c]      datt[h*C+c] = sum over r of dout[r][h] * x[r][h*C+c]
//
// datt sums rows in fixed blocks, in block order, so results do not depend on the number of
// workers.
func HeadDot(x, att *G.Node, heads int) (*G.Node, error) {
	xs, err := checkFeatureNode("HeadDot", "x", x, -1)
	if err != nil {
		return nil, err
	}
	if att == nil {
		return nil, fmt.Errorf("ops: HeadDot: nil att node")
	}
	if heads < 1 || xs[1]%heads != 0 {
		return nil, fmt.Errorf("ops: HeadDot: x has %d columns, not a multiple of heads = %d", xs[1], heads)
	}
	if att.Dtype() != x.Dtype() {
		return nil, fmt.Errorf("ops: HeadDot: att has dtype %v, x %v; want the same", att.Dtype(), x.Dtype())
	}
	if as := att.Shape(); as.TotalSize() != xs[1] || len(as) > 2 || (len(as) == 2 && as[0] != 1 && as[1] != 1) {
		return nil, fmt.Errorf("ops: HeadDot: att has shape %v, want %d elements as (%d, 1) or (1, %d)", as, xs[1], xs[1], xs[1])
	}
	return G.ApplyOp(&headDotOp{opBase: opBase{name: fmt.Sprintf("head_dot(%d)", heads)}, heads: heads}, x, att)
}

type headDotMode int

const (
	headDotForward headDotMode = iota // (x, att) -> out
	headDotGradX                      // (dout, att) -> dx
	headDotGradAtt                    // (x, dout) -> datt, shaped as att
)

type headDotOp struct {
	opBase
	heads    int
	mode     headDotMode
	attShape tensor.Shape // the shape of datt (headDotGradAtt)
	partial  []float64    // per-block sums of datt, reused between runs
}

func (o *headDotOp) Arity() int { return 2 }

func (o *headDotOp) Type() hm.Type {
	a, b, c := hm.TypeVariable('a'), hm.TypeVariable('b'), hm.TypeVariable('c')
	return hm.NewFnType(a, b, c)
}

func (o *headDotOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	switch o.mode {
	case headDotForward:
		return tensor.Shape{s[0], o.heads}, nil
	case headDotGradX:
		w, err := shapeOf(o.name, ns, 1)
		if err != nil {
			return nil, err
		}
		return tensor.Shape{s[0], w.TotalSize()}, nil
	}
	return o.attShape.Clone(), nil
}

func (o *headDotOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *headDotOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	if len(vals) != 2 {
		return nil, fmt.Errorf("%s: %d inputs, want 2", o.name, len(vals))
	}
	a, ok := vals[0].(*tensor.Dense)
	b, ok2 := vals[1].(*tensor.Dense)
	if !ok || !ok2 {
		return nil, fmt.Errorf("%s: inputs are %T and %T, want dense tensors", o.name, vals[0], vals[1])
	}
	if a.Dtype() != b.Dtype() || (a.Dtype() != tensor.Float32 && a.Dtype() != tensor.Float64) {
		return nil, shapeMismatch(o.name, a, b)
	}
	if a.IsView() {
		a = a.Materialize().(*tensor.Dense)
	}
	if b.IsView() {
		b = b.Materialize().(*tensor.Dense)
	}
	var rows, width int
	var y *tensor.Dense
	switch o.mode {
	case headDotForward: // a = x (R, W), b = att (W)
		if a.Dims() != 2 || b.Len() != a.Shape()[1] || a.Shape()[1]%o.heads != 0 {
			return nil, shapeMismatch(o.name, a, b)
		}
		rows, width = a.Shape()[0], a.Shape()[1]
		y = o.output(prealloc, a.Dtype(), tensor.Shape{rows, o.heads}, a, b)
	case headDotGradX: // a = dout (R, heads), b = att (W)
		if a.Dims() != 2 || a.Shape()[1] != o.heads || b.Len()%o.heads != 0 {
			return nil, shapeMismatch(o.name, a, b)
		}
		rows, width = a.Shape()[0], b.Len()
		y = o.output(prealloc, a.Dtype(), tensor.Shape{rows, width}, a, b)
	default: // a = x (R, W), b = dout (R, heads)
		if a.Dims() != 2 || b.Dims() != 2 || a.Shape()[0] != b.Shape()[0] || b.Shape()[1] != o.heads || a.Shape()[1] != o.attShape.TotalSize() {
			return nil, shapeMismatch(o.name, a, b)
		}
		rows, width = a.Shape()[0], a.Shape()[1]
		y = o.output(prealloc, a.Dtype(), o.attShape.Clone(), a, b)
	}
	if a.Dtype() == tensor.Float32 {
		headDot(o, a.Float32s(), b.Float32s(), y.Float32s(), rows, width)
	} else {
		headDot(o, a.Float64s(), b.Float64s(), y.Float64s(), rows, width)
	}
	return y, nil
}

// headDotBlock is the number of rows whose datt terms are summed together before the blocks
// are added in order: fixed, so that the sums do not depend on the number of workers.
const headDotBlock = 256

func headDot[T Float](o *headDotOp, a, b, y []T, rows, width int) {
	h := o.heads
	c := width / h
	switch o.mode {
	case headDotForward:
		x, att := a, b
		forChunks(rows, width, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				xr := x[r*width : (r+1)*width]
				for k := 0; k < h; k++ {
					var s T
					for j, v := range xr[k*c : (k+1)*c] {
						s += v * att[k*c+j]
					}
					y[r*h+k] = s
				}
			}
		})
	case headDotGradX:
		dout, att := a, b
		forChunks(rows, width, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				dxr := y[r*width : (r+1)*width]
				for k := 0; k < h; k++ {
					g := dout[r*h+k]
					for j, v := range att[k*c : (k+1)*c] {
						dxr[k*c+j] = g * v
					}
				}
			}
		})
	default:
		x, dout := a, b
		blocks := (rows + headDotBlock - 1) / headDotBlock
		if cap(o.partial) < blocks*width {
			o.partial = make([]float64, blocks*width)
		}
		part := o.partial[:blocks*width]
		forChunks(blocks, width*headDotBlock, func(lo, hi int) {
			acc := make([]T, width)
			for bl := lo; bl < hi; bl++ {
				clear(acc)
				for r := bl * headDotBlock; r < min(rows, (bl+1)*headDotBlock); r++ {
					xr := x[r*width : (r+1)*width]
					for k := 0; k < h; k++ {
						g := dout[r*h+k]
						for j, v := range xr[k*c : (k+1)*c] {
							acc[k*c+j] += g * v
						}
					}
				}
				for j, v := range acc {
					part[bl*width+j] = float64(v)
				}
			}
		})
		for j := range width {
			var s float64
			for bl := 0; bl < blocks; bl++ {
				s += part[bl*width+j]
			}
			y[j] = T(s)
		}
	}
}

func (o *headDotOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	if o.mode == headDotForward {
		for i := range d {
			d[i] = true
		}
	}
	return d
}

func (o *headDotOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if o.mode != headDotForward {
		return nil, fmt.Errorf("%s: no second derivative", o.name)
	}
	x, att := inputs[0], inputs[1]
	dx, err := G.ApplyOp(&headDotOp{opBase: opBase{name: o.name + "_grad_x"}, heads: o.heads, mode: headDotGradX}, grad, att)
	if err != nil {
		return nil, err
	}
	datt, err := G.ApplyOp(&headDotOp{opBase: opBase{name: o.name + "_grad_att"}, heads: o.heads, mode: headDotGradAtt, attShape: att.Shape().Clone()}, x, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, datt}, nil
}
