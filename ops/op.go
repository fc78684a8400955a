package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// opBase holds what every aggregation op shares: its name and the graph it runs on. The graph's
// address is part of the hash, so the same op on two graphs is never merged by Gorgonia.
//
// An op keeps the last output tensor it allocated (last) and writes the next run's output into
// it: Gorgonia's tape machine drops every register on Reset, so without this every run of a
// compiled graph would allocate (and the garbage collector reclaim) every aggregation's output
// again. As with Gorgonia's own register reuse, a node's value is valid until the next run of
// the graph; an op instance belongs to one node, and machines over one graph run one at a time.
type opBase struct {
	name string
	g    *graph.CSR
	last *tensor.Dense
}

func (o opBase) ReturnsPtr() bool      { return false }
func (o opBase) CallsExtern() bool     { return false }
func (o opBase) OverwritesInput() int  { return -1 }
func (o opBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s(%p)", o.name, o.g) }
func (o opBase) String() string        { return o.name }
func (o opBase) Hashcode() uint32      { return hashOf(o) }

func hashOf(o interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

var (
	matrixType = G.TensorType{Dims: 2, Of: hm.TypeVariable('a')}
	vectorType = G.TensorType{Dims: 1, Of: hm.TypeVariable('a')}
)

// checkMatrix validates a node's shape for an op that needs a rows x any matrix.
func checkMatrix(op string, what string, s tensor.Shape, rows int) error {
	if len(s) != 2 {
		return fmt.Errorf("%s: %s has shape %v, want a matrix (nodes x features)", op, what, s)
	}
	if rows >= 0 && s[0] != rows {
		return fmt.Errorf("%s: %s has %d rows, want %d (one per node of the graph)", op, what, s[0], rows)
	}
	return nil
}

func shapeOf(op string, ns []G.DimSizer, k int) (tensor.Shape, error) {
	if len(ns) <= k {
		return nil, fmt.Errorf("%s: %d inputs, want at least %d", op, len(ns), k+1)
	}
	s, ok := ns[k].(tensor.Shape)
	if !ok {
		// Gorgonia passes shapes here; anything else is a caller building nodes by hand.
		sh, err := ns[k].DimSize(0)
		if err != nil {
			return nil, fmt.Errorf("%s: input %d has no shape: %v", op, k, err)
		}
		s = tensor.Shape{sh}
	}
	return s, nil
}

// denseArg returns input k as a contiguous dense tensor of float32 or float64 with the given
// number of dimensions.
func denseArg(op string, vals []G.Value, k, dims int) (*tensor.Dense, error) {
	if len(vals) <= k {
		return nil, fmt.Errorf("%s: %d inputs, want at least %d", op, len(vals), k+1)
	}
	t, ok := vals[k].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%s: input %d is %T, want a dense tensor", op, k, vals[k])
	}
	if t.Dims() != dims {
		return nil, fmt.Errorf("%s: input %d has shape %v, want %d dimensions", op, k, t.Shape(), dims)
	}
	if dt := t.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("%s: input %d has dtype %v, want float32 or float64", op, k, dt)
	}
	if t.IsView() {
		if m, ok := t.Materialize().(*tensor.Dense); ok {
			t = m
		}
	}
	return t, nil
}

// reuseOutputs switches the reuse of an op's last output on (tests switch it off to compare).
var reuseOutputs = true

// output is the package function output with the op's last allocated output as the
// preallocated tensor when the machine gives none.
func (o *opBase) output(prealloc G.Value, dt tensor.Dtype, shape tensor.Shape, inputs ...*tensor.Dense) *tensor.Dense {
	if p, ok := prealloc.(*tensor.Dense); ok && p != nil {
		return output(prealloc, dt, shape, inputs...)
	}
	var last G.Value
	if o.last != nil && reuseOutputs {
		last = o.last
	}
	y := output(last, dt, shape, inputs...)
	o.last = y
	return y
}

// output returns a tensor of the given shape and dtype to write into: prealloc when it fits and
// shares no memory with the inputs (Gorgonia's register reuse can hand an op its own input),
// else a new one.
func output(prealloc G.Value, dt tensor.Dtype, shape tensor.Shape, inputs ...*tensor.Dense) *tensor.Dense {
	if p, ok := prealloc.(*tensor.Dense); ok && p.Dtype() == dt && p.Shape().Eq(shape) && !p.IsView() {
		clash := false
		for _, in := range inputs {
			if overlaps(p, in) {
				clash = true
				break
			}
		}
		if !clash {
			return p
		}
	}
	return tensor.New(tensor.WithShape(shape...), tensor.Of(dt))
}

func overlaps(a, b *tensor.Dense) bool {
	if a == nil || b == nil || a.MemSize() == 0 || b.MemSize() == 0 {
		return false
	}
	a0, b0 := a.Uintptr(), b.Uintptr()
	return a0 < b0+b.MemSize() && b0 < a0+a.MemSize()
}

// aggregatedShape infers the output of an op that maps a (NumSrc, F) input, argument k, to
// (NumDst, F).
func (o opBase) aggregatedShape(ns []G.DimSizer, k int) (tensor.Shape, error) {
	s, err := shapeOf(o.name, ns, k)
	if err != nil {
		return nil, err
	}
	if err := checkMatrix(o.name, "input", s, o.g.NumSrc); err != nil {
		return nil, err
	}
	return tensor.Shape{o.g.NumDst, s[1]}, nil
}

// sourceInput returns argument k as the (NumSrc, F) input matrix and its width F.
func (o opBase) sourceInput(vals []G.Value, k int) (*tensor.Dense, int, error) {
	x, err := denseArg(o.name, vals, k, 2)
	if err != nil {
		return nil, 0, err
	}
	if err := checkMatrix(o.name, "input", x.Shape(), o.g.NumSrc); err != nil {
		return nil, 0, err
	}
	return x, x.Shape()[1], nil
}

// inputAndGrad returns arguments 0 and 1 of a backward op as the forward's (xRows, F) input and
// the (dyRows, F) output gradient, of one dtype, and F.
func inputAndGrad(op string, vals []G.Value, xRows, dyRows int) (x, dy *tensor.Dense, width int, err error) {
	if x, err = denseArg(op, vals, 0, 2); err != nil {
		return nil, nil, 0, err
	}
	if dy, err = denseArg(op, vals, 1, 2); err != nil {
		return nil, nil, 0, err
	}
	if err = checkMatrix(op, "input", x.Shape(), xRows); err != nil {
		return nil, nil, 0, err
	}
	if err = checkMatrix(op, "output gradient", dy.Shape(), dyRows); err != nil {
		return nil, nil, 0, err
	}
	width = x.Shape()[1]
	if dy.Shape()[1] != width || dy.Dtype() != x.Dtype() {
		return nil, nil, 0, shapeMismatch(op, x, dy)
	}
	return x, dy, width, nil
}

func shapeMismatch(op string, a, b *tensor.Dense) error {
	return fmt.Errorf("%s: inputs do not match: %v %v and %v %v", op, a.Shape(), a.Dtype(), b.Shape(), b.Dtype())
}

// elementwiseArg returns input k as a contiguous float32 or float64 tensor of any shape.
func elementwiseArg(op string, vals []G.Value, k int) (*tensor.Dense, error) {
	if len(vals) <= k {
		return nil, fmt.Errorf("%s: %d inputs, want at least %d", op, len(vals), k+1)
	}
	t, ok := vals[k].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%s: input %d is %T, want a dense tensor", op, k, vals[k])
	}
	return denseArg(op, vals, k, t.Dims())
}

func checkArgs(op string, a *graph.CSR, x *G.Node) error {
	if a == nil {
		return fmt.Errorf("ops: %s: nil graph", op)
	}
	if x == nil {
		return fmt.Errorf("ops: %s: nil input node", op)
	}
	return nil
}

// The interfaces every op implements, checked at compile time: a forward op is differentiable
// symbolically (gorgonia.SDOp, the route open to ops defined outside package gorgonia) and
// writes into a preallocated or reused output (gorgonia.UsePreallocDoer); a backward op is an
// op with the same output reuse.
var (
	_ G.SDOp            = (*addOp)(nil)
	_ G.UsePreallocDoer = (*addOp)(nil)
	_ G.SDOp            = (*addBiasOp)(nil)
	_ G.UsePreallocDoer = (*addBiasOp)(nil)
	_ G.SDOp            = (*edgeScoresOp)(nil)
	_ G.UsePreallocDoer = (*edgeScoresOp)(nil)
	_ G.SDOp            = (*edgeSoftmaxOp)(nil)
	_ G.UsePreallocDoer = (*edgeSoftmaxOp)(nil)
	_ G.SDOp            = (*edgeWeightedOp)(nil)
	_ G.UsePreallocDoer = (*edgeWeightedOp)(nil)
	_ G.SDOp            = (*gatherOp)(nil)
	_ G.UsePreallocDoer = (*gatherOp)(nil)
	_ G.SDOp            = (*gatSoftmaxOp)(nil)
	_ G.UsePreallocDoer = (*gatSoftmaxOp)(nil)
	_ G.SDOp            = (*gcnPropOp)(nil)
	_ G.UsePreallocDoer = (*gcnPropOp)(nil)
	_ G.SDOp            = (*leakyReLUOp)(nil)
	_ G.UsePreallocDoer = (*leakyReLUOp)(nil)
	_ G.SDOp            = (*logSoftmaxOp)(nil)
	_ G.UsePreallocDoer = (*logSoftmaxOp)(nil)
	_ G.SDOp            = (*lstmSeqOp)(nil)
	_ G.UsePreallocDoer = (*lstmSeqOp)(nil)
	_ G.SDOp            = (*matMulOp)(nil)
	_ G.UsePreallocDoer = (*matMulOp)(nil)
	_ G.SDOp            = (*maxOp)(nil)
	_ G.UsePreallocDoer = (*maxOp)(nil)
	_ G.SDOp            = (*reluOp)(nil)
	_ G.UsePreallocDoer = (*reluOp)(nil)
	_ G.SDOp            = (*sagePropOp)(nil)
	_ G.UsePreallocDoer = (*sagePropOp)(nil)
	_ G.SDOp            = (*scatterOp)(nil)
	_ G.UsePreallocDoer = (*scatterOp)(nil)
	_ G.SDOp            = (*spmmOp)(nil)
	_ G.UsePreallocDoer = (*spmmOp)(nil)
	_ G.UsePreallocDoer = (*edgeSumOp)(nil)
	_ G.UsePreallocDoer = (*edgeSoftmaxGradOp)(nil)
	_ G.UsePreallocDoer = (*edgeWeightedGradX)(nil)
	_ G.UsePreallocDoer = (*edgeWeightedGradW)(nil)
	_ G.UsePreallocDoer = (*gatSoftmaxGradOp)(nil)
	_ G.UsePreallocDoer = (*logSoftmaxGradOp)(nil)
	_ G.UsePreallocDoer = (*lstmSeqGradOp)(nil)
	_ G.UsePreallocDoer = (*flatPartOp)(nil)
	_ G.UsePreallocDoer = (*maxGradOp)(nil)
	_ G.UsePreallocDoer = (*reluGradOp)(nil)
	_ G.UsePreallocDoer = (*sageNeighGradOp)(nil)
	_ G.UsePreallocDoer = (*padRowsOp)(nil)
	_ G.UsePreallocDoer = (*scatterMaxGradOp)(nil)
)
