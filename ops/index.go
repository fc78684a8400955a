package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// NewIndex returns an index input of n entries for IndexSelect, ScatterAdd and the segment ops:
// a 1-D tensor.Int node named name in g, holding zeros until SetIndex gives it its values. Its
// length is fixed; its values may change between runs of a compiled graph. A negative n counts
// as zero.
func NewIndex(g *G.ExprGraph, name string, n int) *G.Node {
	n = max(n, 0)
	v := tensor.New(tensor.WithShape(n), tensor.Of(tensor.Int))
	return G.NewVector(g, tensor.Int, G.WithShape(n), G.WithName(name), G.WithValue(v))
}

// SetIndex sets the values of an index node made by NewIndex (or any 1-D tensor.Int input node)
// for the next run; idx must have the node's length. The values are copied, so idx may be reused.
// Their range is checked by the ops that read them, when the graph runs.
func SetIndex(n *G.Node, idx []int) error {
	if n == nil {
		return fmt.Errorf("ops: SetIndex: nil node")
	}
	if n.Dtype() != tensor.Int || n.Dims() != 1 {
		return fmt.Errorf("ops: SetIndex: node %s has dtype %v and %d dimensions, want a 1-D tensor.Int node (make it with NewIndex)", n.Name(), n.Dtype(), n.Dims())
	}
	if want := n.Shape()[0]; len(idx) != want {
		return fmt.Errorf("ops: SetIndex: %d indices for node %s of length %d; an index node keeps the length it was built with", len(idx), n.Name(), want)
	}
	if t, ok := n.Value().(*tensor.Dense); ok && t.Dtype() == tensor.Int && t.Len() == len(idx) && !t.IsView() {
		copy(t.Ints(), idx)
		return G.Let(n, t)
	}
	v := tensor.New(tensor.WithShape(len(idx)), tensor.WithBacking(append([]int(nil), idx...)))
	return G.Let(n, v)
}
