package models

import (
	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/nn"
)

// Evaluator runs a model's forward pass in evaluation mode (dropout off), for scoring a
// trained or restored model without the training machinery.
type Evaluator struct {
	c      *nn.Context
	logits *G.Node
	vm     G.VM
}

// NewEvaluator compiles the subgraph of c's graph that ends at logits. Close releases it.
func NewEvaluator(c *nn.Context, logits *G.Node) *Evaluator {
	return &Evaluator{c: c, logits: logits, vm: G.NewTapeMachine(c.Graph.SubgraphRoots(logits))}
}

// Logits switches the context to evaluation mode, runs the forward pass once and returns a
// copy of the logits, one row per node.
func (e *Evaluator) Logits() ([][]float64, error) {
	e.c.SetTraining(false)
	if err := e.c.Refresh(); err != nil {
		return nil, err
	}
	e.vm.Reset()
	if err := e.vm.RunAll(); err != nil {
		return nil, err
	}
	return nn.Rows(e.logits.Value())
}

// Accuracy runs the forward pass and returns the accuracy of the argmax class on nodes.
func (e *Evaluator) Accuracy(labels, nodes []int) (float64, error) {
	l, err := e.Logits()
	if err != nil {
		return 0, err
	}
	return nn.Accuracy(l, labels, nodes), nil
}

// Close releases the machine.
func (e *Evaluator) Close() error { return e.vm.Close() }
