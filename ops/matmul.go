package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MatMul returns x w for matrices x (n, k) and w (k, m), through the BLAS Gorgonia uses
// (gorgonia.Use), like gorgonia.Mul; unlike it, a re-run machine writes the product into the
// tensor the op allocated on its first run instead of allocating a new one every run, which
// for n-row node features is most of a layer's memory traffic. Gradients:
//
//	dx = dout w^T      dw = x^T dout
func MatMul(x, w *G.Node) (*G.Node, error) {
	if x == nil || w == nil {
		return nil, fmt.Errorf("ops: MatMul: nil input node")
	}
	xs, ws := x.Shape(), w.Shape()
	if len(xs) != 2 || len(ws) != 2 || xs[1] != ws[0] {
		return nil, fmt.Errorf("ops: MatMul: shapes %v and %v do not multiply: want (n, k) and (k, m)", xs, ws)
	}
	return G.ApplyOp(&matMulOp{opBase: opBase{name: "matmul"}}, x, w)
}

// matMulOp computes op(a) op(b), op transposing when ta / tb is set.
type matMulOp struct {
	opBase
	ta, tb bool
}

func (o *matMulOp) Arity() int    { return 2 }
func (o *matMulOp) Type() hm.Type { return hm.NewFnType(matrixType, matrixType, matrixType) }

// dims returns m, n, k of op(a) (m x k) times op(b) (k x n).
func (o *matMulOp) dims(as, bs tensor.Shape) (m, n, k int, err error) {
	if len(as) != 2 || len(bs) != 2 {
		return 0, 0, 0, fmt.Errorf("%s: shapes %v and %v: want matrices", o, as, bs)
	}
	m, k = as[0], as[1]
	if o.ta {
		m, k = k, m
	}
	kb, n := bs[0], bs[1]
	if o.tb {
		kb, n = n, kb
	}
	if k != kb {
		return 0, 0, 0, fmt.Errorf("%s: shapes %v and %v do not multiply", o.name, as, bs)
	}
	return m, n, k, nil
}

func (o *matMulOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	as, err := shapeOf(o.name, ns, 0)
	if err != nil {
		return nil, err
	}
	bs, err := shapeOf(o.name, ns, 1)
	if err != nil {
		return nil, err
	}
	m, n, _, err := o.dims(as, bs)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{m, n}, nil
}

func (o *matMulOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *matMulOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	a, err := denseArg(o.name, vals, 0, 2)
	if err != nil {
		return nil, err
	}
	b, err := denseArg(o.name, vals, 1, 2)
	if err != nil {
		return nil, err
	}
	if a.Dtype() != b.Dtype() {
		return nil, shapeMismatch(o.name, a, b)
	}
	m, n, k, err := o.dims(a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	c := o.output(prealloc, a.Dtype(), tensor.Shape{m, n}, a, b)
	ta, tb := blas.NoTrans, blas.NoTrans
	if o.ta {
		ta = blas.Trans
	}
	if o.tb {
		tb = blas.Trans
	}
	lda, ldb := a.Shape()[1], b.Shape()[1]
	if m == 0 || n == 0 {
		return c, nil
	}
	impl := G.WhichBLAS()
	if a.Dtype() == tensor.Float32 {
		if k == 0 {
			clear(c.Float32s())
			return c, nil
		}
		impl.Sgemm(ta, tb, m, n, k, 1, a.Float32s(), lda, b.Float32s(), ldb, 0, c.Float32s(), n)
	} else {
		if k == 0 {
			clear(c.Float64s())
			return c, nil
		}
		impl.Dgemm(ta, tb, m, n, k, 1, a.Float64s(), lda, b.Float64s(), ldb, 0, c.Float64s(), n)
	}
	return c, nil
}

func (o *matMulOp) DiffWRT(int) []bool { return []bool{true, true} }

func (o *matMulOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if o.ta || o.tb {
		return nil, fmt.Errorf("%s: no gradient for a transposed product (only MatMul's own is differentiated)", o.name)
	}
	dx, err := G.ApplyOp(&matMulOp{opBase: opBase{name: "matmul_grad_x"}, tb: true}, grad, inputs[1])
	if err != nil {
		return nil, err
	}
	dw, err := G.ApplyOp(&matMulOp{opBase: opBase{name: "matmul_grad_w"}, ta: true}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dw}, nil
}
