package models

import (
	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/nn"
)

// Evaluator runs a model's forward pass in evaluation mode (dropout off), for scoring a
// trained or restored model without the training machinery. It computes one output node of
// the model's graph: logits, log-probabilities or embeddings, whichever it was made with.
type Evaluator struct {
	c   *nn.Context
	out *G.Node
	vm  G.VM
}

// NewEvaluator compiles the subgraph of c's graph that ends at out, a (rows, columns) matrix
// node. Close releases it.
func NewEvaluator(c *nn.Context, out *G.Node) *Evaluator {
	return &Evaluator{c: c, out: out, vm: G.NewTapeMachine(c.Graph.SubgraphRoots(out))}
}

// Logits is Outputs, under its old name: it returns whatever node the evaluator was made with,
// which in Train is the log-probabilities, not the logits.
//
// Deprecated: use Outputs.
func (e *Evaluator) Logits() ([][]float64, error) { return e.Outputs() }

// Outputs switches the context to evaluation mode, runs the forward pass once and returns a
// copy of the output node's rows (one per node for a node model).
func (e *Evaluator) Outputs() ([][]float64, error) {
	e.c.SetTraining(false)
	if err := e.c.Refresh(); err != nil {
		return nil, err
	}
	e.vm.Reset()
	if err := e.vm.RunAll(); err != nil {
		return nil, err
	}
	return nn.Rows(e.out.Value())
}

// Accuracy runs the forward pass and returns the accuracy of the argmax column (the predicted
// class of logits or log-probabilities) on nodes.
func (e *Evaluator) Accuracy(labels, nodes []int) (float64, error) {
	l, err := e.Outputs()
	if err != nil {
		return 0, err
	}
	return nn.Accuracy(l, labels, nodes), nil
}

// Close releases the machine.
func (e *Evaluator) Close() error { return e.vm.Close() }
