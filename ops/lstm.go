package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"gonum.org/v1/gonum/blas"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// LSTMSequence runs a single-layer LSTM over n packed sequences as one op and returns the final
// hidden state of each, shape (n, H):
//
//	[i f g o] = xw_t + h_{t-1} Wh + b,   c_t = σ(f) c_{t-1} + σ(i) tanh(g),   h_t = σ(o) tanh(c_t)
//
// xw holds the input projections x_t Wx of every step, packed as PyTorch's pack_padded_sequence
// packs them: sequences are sorted by length, longest first, and steps[t] is the number of
// sequences longer than t, so step t's rows are the next steps[t] rows of xw, one per live
// sequence in order. steps must be non-increasing with steps[0] <= n and sum(steps) the rows of
// xw; sequences steps[0]..n-1 are empty and their state stays zero. wh is (H, 4H) and b (4H),
// gates in PyTorch's order i, f, g, o.
//
// Built from Gorgonia's elementwise ops the LSTM is a dozen nodes per step, whose compile time
// dominates when a graph is built per mini-batch; fused it is one node, whose backward pass
// recomputes the forward states (back-propagation through time) rather than keeping them between
// the two passes.
func LSTMSequence(xw, wh, b *G.Node, n int, steps []int) (*G.Node, error) {
	if xw == nil || wh == nil || b == nil {
		return nil, fmt.Errorf("ops: LSTMSequence: nil input node")
	}
	ws := wh.Shape()
	if len(ws) != 2 || ws[1] != 4*ws[0] || ws[0] == 0 {
		return nil, fmt.Errorf("ops: LSTMSequence: recurrent weight has shape %v, want (H, 4H)", ws)
	}
	H := ws[0]
	if bs := b.Shape(); bs.TotalSize() != 4*H || len(bs) != 1 {
		return nil, fmt.Errorf("ops: LSTMSequence: bias has shape %v, want (%d)", bs, 4*H)
	}
	rows := 0
	for t, s := range steps {
		if s <= 0 || s > n || (t > 0 && s > steps[t-1]) {
			return nil, fmt.Errorf("ops: LSTMSequence: steps[%d] = %d: steps must be positive, at most n = %d and non-increasing", t, s, n)
		}
		rows += s
	}
	if xs := xw.Shape(); len(xs) != 2 || xs[0] != rows || xs[1] != 4*H {
		return nil, fmt.Errorf("ops: LSTMSequence: input projections have shape %v, want (%d, %d) for these steps", xs, rows, 4*H)
	}
	return G.ApplyOp(&lstmSeqOp{opBase: opBase{name: "lstm_seq"}, n: n, h: H, rows: rows, steps: steps}, xw, wh, b)
}

type lstmSeqOp struct {
	opBase
	n, h, rows int
	steps      []int // read-only
}

func (o *lstmSeqOp) Arity() int { return 3 }
func (o *lstmSeqOp) Type() hm.Type {
	return hm.NewFnType(matrixType, matrixType, vectorType, matrixType)
}
func (o *lstmSeqOp) String() string {
	return fmt.Sprintf("lstm_seq(n=%d, steps=%d)", o.n, len(o.steps))
}
func (o *lstmSeqOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "lstm_seq %d %d %v", o.n, o.h, o.steps)
}
func (o *lstmSeqOp) Hashcode() uint32   { return hashOf(o) }
func (o *lstmSeqOp) DiffWRT(int) []bool { return []bool{true, true, true} }

func (o *lstmSeqOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{o.n, o.h}, nil
}

func (o *lstmSeqOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *lstmSeqOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	xw, wh, b, err := o.args("lstm_seq", vals)
	if err != nil {
		return nil, err
	}
	out := o.output(prealloc, xw.Dtype(), tensor.Shape{o.n, o.h}, xw, wh, b)
	if xw.Dtype() == tensor.Float32 {
		lstmForward(o.h, o.steps, xw.Float32s(), wh.Float32s(), b.Float32s(), out.Float32s(), nil)
	} else {
		lstmForward(o.h, o.steps, xw.Float64s(), wh.Float64s(), b.Float64s(), out.Float64s(), nil)
	}
	return out, nil
}

// args checks the op's first three values against the shapes it was built for.
func (o *lstmSeqOp) args(op string, vals []G.Value) (xw, wh, b *tensor.Dense, err error) {
	if xw, err = denseArg(op, vals, 0, 2); err != nil {
		return
	}
	if wh, err = denseArg(op, vals, 1, 2); err != nil {
		return
	}
	if b, err = denseArg(op, vals, 2, 1); err != nil {
		return
	}
	H := o.h
	if !xw.Shape().Eq(tensor.Shape{o.rows, 4 * H}) || !wh.Shape().Eq(tensor.Shape{H, 4 * H}) || b.Shape().TotalSize() != 4*H {
		return nil, nil, nil, fmt.Errorf("ops: %s: inputs of shapes %v, %v, %v, want (%d, %d), (%d, %d), (%d)",
			op, xw.Shape(), wh.Shape(), b.Shape(), o.rows, 4*H, H, 4*H, 4*H)
	}
	if wh.Dtype() != xw.Dtype() || b.Dtype() != xw.Dtype() {
		return nil, nil, nil, fmt.Errorf("ops: %s: inputs of types %v, %v, %v, want one type", op, xw.Dtype(), wh.Dtype(), b.Dtype())
	}
	return xw, wh, b, nil
}

// lstmStates holds what the backward pass needs of every packed row: the gate activations
// (σ(i), σ(f), tanh(g), σ(o)), the cell state before the step and tanh of the one after.
type lstmStates[T Float] struct {
	act   []T // rows x 4H
	cPrev []T // rows x H
	tanhC []T // rows x H
	hPrev []T // rows x H
}

// lstmForward runs the packed LSTM, writing the final hidden states to out (n x H, rows of empty
// sequences left as they are, zero). With st non-nil it records the per-row states.
func lstmForward[T Float](H int, steps []int, xw, wh, b, out []T, st *lstmStates[T]) {
	n := len(out) / H
	h := out
	clear(h)
	c := make([]T, n*H)
	z := make([]T, steps[0]*4*H)
	off := 0 // first packed row of the step
	for _, live := range steps {
		zt := z[:live*4*H]
		copy(zt, xw[off*4*H:(off+live)*4*H])
		if st != nil {
			copy(st.hPrev[off*H:], h[:live*H])
			copy(st.cPrev[off*H:], c[:live*H])
		}
		// zt += h[:live] Wh
		gemm(false, false, live, 4*H, H, 1, h[:live*H], H, wh, 4*H, 1, zt, 4*H)
		for r := 0; r < live; r++ {
			zr := zt[r*4*H : (r+1)*4*H]
			hr, cr := h[r*H:(r+1)*H], c[r*H:(r+1)*H]
			for j := 0; j < H; j++ {
				i := sigmoid(zr[j] + b[j])
				f := sigmoid(zr[H+j] + b[H+j])
				g := T(math.Tanh(float64(zr[2*H+j] + b[2*H+j])))
				o := sigmoid(zr[3*H+j] + b[3*H+j])
				cr[j] = f*cr[j] + i*g
				tc := T(math.Tanh(float64(cr[j])))
				hr[j] = o * tc
				if st != nil {
					a := st.act[(off+r)*4*H:]
					a[j], a[H+j], a[2*H+j], a[3*H+j] = i, f, g, o
					st.tanhC[(off+r)*H+j] = tc
				}
			}
		}
		off += live
	}
}

func sigmoid[T Float](x T) T { return T(1 / (1 + math.Exp(-float64(x)))) }

// gemm computes c = alpha op(a) op(b) + beta c for row-major matrices with the BLAS Gorgonia
// uses (gorgonia.WhichBLAS), the one path to BLAS of this package (see the package doc).
func gemm[T Float](ta, tb bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	tA, tB := blas.NoTrans, blas.NoTrans
	if ta {
		tA = blas.Trans
	}
	if tb {
		tB = blas.Trans
	}
	switch a := any(a).(type) {
	case []float32:
		G.WhichBLAS().Sgemm(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		G.WhichBLAS().Dgemm(tA, tB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

func (o *lstmSeqOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	back := *o
	back.opBase = opBase{name: "lstm_seq_grad"}
	flat, err := G.ApplyOp(&lstmSeqGradOp{back}, inputs[0], inputs[1], inputs[2], grad)
	if err != nil {
		return nil, err
	}
	H, R := o.h, o.rows
	parts := []struct {
		off   int
		shape tensor.Shape
	}{{0, tensor.Shape{R, 4 * H}}, {R * 4 * H, tensor.Shape{H, 4 * H}}, {R*4*H + 4*H*H, inputs[2].Shape().Clone()}}
	grads := make(G.Nodes, 3)
	for k, p := range parts {
		if grads[k], err = G.ApplyOp(&flatPartOp{opBase: opBase{name: "part"}, off: p.off, shape: p.shape}, flat); err != nil {
			return nil, err
		}
	}
	return grads, nil
}

// lstmSeqGradOp computes the gradients of LSTMSequence's three inputs from (xw, wh, b, dOut),
// concatenated into one vector [dxw | dwh | db] that flatPartOps cut apart: one backward pass
// through time yields all three.
type lstmSeqGradOp struct{ lstmSeqOp }

func (o *lstmSeqGradOp) Arity() int { return 4 }
func (o *lstmSeqGradOp) Type() hm.Type {
	return hm.NewFnType(matrixType, matrixType, vectorType, matrixType, vectorType)
}
func (o *lstmSeqGradOp) String() string {
	return fmt.Sprintf("lstm_seq_grad(n=%d, steps=%d)", o.n, len(o.steps))
}
func (o *lstmSeqGradOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "lstm_seq_grad %d %d %v", o.n, o.h, o.steps)
}
func (o *lstmSeqGradOp) Hashcode() uint32 { return hashOf(o) }

func (o *lstmSeqGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{o.rows*4*o.h + 4*o.h*o.h + 4*o.h}, nil
}

func (o *lstmSeqGradOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *lstmSeqGradOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	if len(vals) != 4 {
		return nil, fmt.Errorf("ops: lstm_seq_grad: %d inputs, want 4", len(vals))
	}
	xw, wh, b, err := o.args("lstm_seq_grad", vals)
	if err != nil {
		return nil, err
	}
	g, err := denseArg("lstm_seq_grad", vals, 3, 2)
	if err != nil {
		return nil, err
	}
	if !g.Shape().Eq(tensor.Shape{o.n, o.h}) || g.Dtype() != xw.Dtype() {
		return nil, fmt.Errorf("ops: lstm_seq_grad: output gradient %v of shape %v, want %v (%d, %d)", g.Dtype(), g.Shape(), xw.Dtype(), o.n, o.h)
	}
	size, _ := o.InferShape()
	out := o.output(prealloc, xw.Dtype(), size, xw, wh, b, g)
	if xw.Dtype() == tensor.Float32 {
		lstmBackward(o.h, o.steps, xw.Float32s(), wh.Float32s(), b.Float32s(), g.Float32s(), out.Float32s())
	} else {
		lstmBackward(o.h, o.steps, xw.Float64s(), wh.Float64s(), b.Float64s(), g.Float64s(), out.Float64s())
	}
	return out, nil
}

// lstmBackward writes [dxw | dwh | db] to grads by back-propagation through time.
func lstmBackward[T Float](H int, steps []int, xw, wh, b, dOut, grads []T) {
	n := len(dOut) / H
	rows := len(xw) / (4 * H)
	st := &lstmStates[T]{
		act: make([]T, rows*4*H), cPrev: make([]T, rows*H), tanhC: make([]T, rows*H), hPrev: make([]T, rows*H),
	}
	lstmForward(H, steps, xw, wh, b, make([]T, n*H), st)
	dxw, dwh, db := grads[:rows*4*H], grads[rows*4*H:rows*4*H+4*H*H], grads[rows*4*H+4*H*H:]
	clear(grads)
	dh := append([]T(nil), dOut...)
	dc := make([]T, n*H)
	dhPrev := make([]T, steps[0]*H)
	off := rows
	for t := len(steps) - 1; t >= 0; t-- {
		live := steps[t]
		off -= live
		dz := dxw[off*4*H : (off+live)*4*H]
		for r := 0; r < live; r++ {
			row := off + r
			a := st.act[row*4*H : (row+1)*4*H]
			tc := st.tanhC[row*H : (row+1)*H]
			cp := st.cPrev[row*H : (row+1)*H]
			dzr := dz[r*4*H : (r+1)*4*H]
			dhr, dcr := dh[r*H:(r+1)*H], dc[r*H:(r+1)*H]
			for j := 0; j < H; j++ {
				i, f, g, o := a[j], a[H+j], a[2*H+j], a[3*H+j]
				dcj := dcr[j] + dhr[j]*o*(1-tc[j]*tc[j])
				dzr[j] = dcj * g * i * (1 - i)
				dzr[H+j] = dcj * cp[j] * f * (1 - f)
				dzr[2*H+j] = dcj * i * (1 - g*g)
				dzr[3*H+j] = dhr[j] * tc[j] * o * (1 - o)
				dcr[j] = dcj * f
			}
		}
		// dwh += hPrev^T dz; dh[:live] = dz Wh^T.
		gemm(true, false, H, 4*H, live, 1, st.hPrev[off*H:(off+live)*H], H, dz, 4*H, 1, dwh, 4*H)
		gemm(false, true, live, H, 4*H, 1, dz, 4*H, wh, 4*H, 0, dhPrev[:live*H], H)
		copy(dh[:live*H], dhPrev[:live*H])
	}
	for r := 0; r < rows; r++ {
		for j, v := range dxw[r*4*H : (r+1)*4*H] {
			db[j] += v
		}
	}
}

// flatPartOp returns elements off.. of a vector as a tensor of the given shape.
type flatPartOp struct {
	opBase
	off   int
	shape tensor.Shape
}

func (o *flatPartOp) Arity() int { return 1 }
func (o *flatPartOp) Type() hm.Type {
	return hm.NewFnType(vectorType, G.TensorType{Dims: len(o.shape), Of: hm.TypeVariable('a')})
}
func (o *flatPartOp) String() string        { return fmt.Sprintf("part(%d, %v)", o.off, o.shape) }
func (o *flatPartOp) WriteHash(h hash.Hash) { fmt.Fprint(h, o.String()) }
func (o *flatPartOp) Hashcode() uint32      { return hashOf(o) }
func (o *flatPartOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return o.shape.Clone(), nil
}

func (o *flatPartOp) Do(vals ...G.Value) (G.Value, error) { return o.UsePreallocDo(nil, vals...) }

func (o *flatPartOp) UsePreallocDo(prealloc G.Value, vals ...G.Value) (G.Value, error) {
	v, err := denseArg("part", vals, 0, 1)
	if err != nil {
		return nil, err
	}
	size := o.shape.TotalSize()
	if o.off+size > v.Len() {
		return nil, fmt.Errorf("ops: part: elements %d..%d of a vector of %d", o.off, o.off+size, v.Len())
	}
	out := o.output(prealloc, v.Dtype(), o.shape.Clone(), v)
	if v.Dtype() == tensor.Float32 {
		copy(out.Float32s(), v.Float32s()[o.off:o.off+size])
	} else {
		copy(out.Float64s(), v.Float64s()[o.off:o.off+size])
	}
	return out, nil
}
