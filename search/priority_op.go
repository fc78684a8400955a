//go:build !gognn_serve

package search

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lowPriorityOp is the identity on a constant input that, when a machine runs it, moves the
// goroutine running the tape onto a thread of the lowest priority for the rest of that
// goroutine's life (lowerThreadPriority; the thread ends with it). Gorgonia's
// TapeMachine.RunAll runs the tape on a goroutine of its own, so an optimiser step started
// on a low-priority thread would otherwise compute at normal priority, competing with the
// requests. A step gates its inputs through it, so that every operation that reads them runs
// after it, on the lowered thread.
type lowPriorityOp struct{}

var (
	_ G.Op   = lowPriorityOp{}
	_ G.SDOp = lowPriorityOp{}
)

// testHookLowPriority, when set, runs on the lowered thread after each lowering (tests).
var testHookLowPriority func()

// lowPriority returns x gated through lowPriorityOp.
func lowPriority(x *G.Node) (*G.Node, error) { return G.ApplyOp(lowPriorityOp{}, x) }

func (lowPriorityOp) Arity() int { return 1 }

func (lowPriorityOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	return hm.NewFnType(a, a)
}

func (lowPriorityOp) InferShape(ns ...G.DimSizer) (tensor.Shape, error) {
	if len(ns) != 1 {
		return nil, fmt.Errorf("search: low_priority: %d inputs, want 1", len(ns))
	}
	s, ok := ns[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("search: low_priority: input has no shape")
	}
	return s.Clone(), nil
}

func (lowPriorityOp) Do(vs ...G.Value) (G.Value, error) {
	if len(vs) != 1 {
		return nil, fmt.Errorf("search: low_priority: %d inputs, want 1", len(vs))
	}
	lowerThreadPriority()
	if testHookLowPriority != nil {
		testHookLowPriority()
	}
	return vs[0], nil
}

func (lowPriorityOp) ReturnsPtr() bool      { return false }
func (lowPriorityOp) CallsExtern() bool     { return false }
func (lowPriorityOp) OverwritesInput() int  { return -1 }
func (lowPriorityOp) WriteHash(h hash.Hash) { fmt.Fprint(h, "low_priority") }
func (o lowPriorityOp) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}
func (lowPriorityOp) String() string { return "low_priority" }

// DiffWRT: the gated input is a constant; no gradient flows through the gate.
func (lowPriorityOp) DiffWRT(n int) []bool { return make([]bool, n) }

func (lowPriorityOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("search: low_priority gates constants only: it has no derivative")
}
