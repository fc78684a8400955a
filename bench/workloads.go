package bench

import (
	"errors"
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/nn"
	"github.com/gnnlab/gognn/ops"
)

// Workload is one op built as a Gorgonia graph and compiled into a tape machine once; Run
// re-runs the same machine.
type Workload struct {
	Op    string
	FLOPs float64 // analytic count of one Run
	// Params are the model's parameters in creation order (for gcn_forward: the weight
	// (F, Hidden), then the bias (Hidden)).
	Params G.Nodes
	Ctx    *nn.Context

	m       G.VM
	outNode *G.Node
	out     G.Value
	solver  G.Solver
}

// Run runs the workload once: the forward pass, or for a training step forward, backward and
// one Adam step.
func (w *Workload) Run() error {
	w.m.Reset()
	if err := w.m.RunAll(); err != nil {
		return err
	}
	// The machine binds every node's value as it runs; taking it (rather than a gorgonia.Read,
	// which copies the output on every run) costs nothing. It is valid until the next Run.
	w.out = w.outNode.Value()
	if w.solver != nil {
		return w.solver.Step(G.NodesToValueGrads(w.Params))
	}
	return nil
}

// Output returns a copy of the last run's output (the loss of a training step) as float32.
func (w *Workload) Output() ([]float32, tensor.Shape, error) {
	v, shape, err := w.output()
	if err != nil {
		return nil, nil, err
	}
	return append([]float32(nil), v...), shape.Clone(), nil
}

// output returns the last run's output in place: valid until the next Run.
func (w *Workload) output() ([]float32, tensor.Shape, error) {
	t, ok := w.out.(*tensor.Dense)
	if !ok {
		if s, ok := w.out.(*G.F32); ok {
			return []float32{float32(*s)}, tensor.Shape{1}, nil
		}
		return nil, nil, fmt.Errorf("bench: %s: output is %T, not yet computed?", w.Op, w.out)
	}
	if t.Dtype() != tensor.Float32 {
		return nil, nil, fmt.Errorf("bench: %s: output dtype %v", w.Op, t.Dtype())
	}
	return t.Float32s(), t.Shape(), nil
}

// CheckFinite returns an error when the last output holds a NaN or an infinity. It reads the
// output in place, so the peak-memory child does not count a copy of it.
func (w *Workload) CheckFinite() error {
	v, _, err := w.output()
	if err != nil {
		return err
	}
	return finite32(v)
}

// Close releases the machine.
func (w *Workload) Close() error { return w.m.Close() }

// Build adds op to a new graph over the inputs and compiles it.
func Build(in *Inputs, op string) (*Workload, error) {
	cfg := in.Cfg
	c, err := nn.NewContext(tensor.Float32, cfg.Seed)
	if err != nil {
		return nil, err
	}
	c.SetTraining(false) // no dropout anywhere
	x := c.Constant("x", in.X)
	a := in.Graph
	n, e := float64(cfg.N), float64(a.NumEdges())
	f, hid, cls := float64(cfg.F), float64(cfg.Hidden), float64(cfg.Classes)
	w := &Workload{Op: op, Ctx: c}
	var out *G.Node
	train := false
	switch op {
	case "aggregate_mean":
		out, err = ops.MeanAggregate(a, x)
		w.FLOPs = 2 * e * f
	case "gcn_forward":
		var l *nn.GCNConv
		if l, err = nn.NewGCNConv(c, "gcn", cfg.F, cfg.Hidden); err == nil {
			out, err = l.Forward(a, x)
		}
		w.FLOPs = gcnFLOPs(n, e, f, hid)
	case "gat_forward":
		const heads = 8
		if cfg.Hidden%heads != 0 {
			return nil, fmt.Errorf("bench: gat_forward: hidden width %d is not a multiple of %d heads", cfg.Hidden, heads)
		}
		var l *nn.GATConv
		l, err = nn.NewGATConv(c, "gat", nn.GATConfig{In: cfg.F, Out: cfg.Hidden / heads, Heads: heads, Concat: true, NegativeSlope: 0.2})
		if err == nil {
			out, err = l.Forward(a, x)
		}
		e1 := e + n
		w.FLOPs = 2*n*f*hid + 4*n*hid + 6*e1*heads + 2*e1*hid + n*hid
	case "sage2_forward":
		out, err = sage2(c, in, x, cfg.Hidden)
		w.FLOPs = sageFLOPs(n, e, f, hid) + n*hid + sageFLOPs(n, e, hid, hid)
	case "gcn2_train_step":
		train = true
		out, err = gcn2(c, in, x)
		e1 := e + n
		fwd := gcnFLOPs(n, e, f, hid) + n*hid + gcnFLOPs(n, e, hid, cls) + 5*n*cls
		bwd := 2*n*cls + // cross-entropy
			n*cls + 2*e1*cls + 4*n*hid*cls + // layer 2: bias, propagation, dW and dx
			n*hid + // ReLU
			n*hid + 2*e1*hid + 2*n*f*hid // layer 1: bias, propagation, dW
		w.FLOPs = fwd + bwd + 10*(f*hid+hid+hid*cls+cls)
	case "sage2_train_step":
		train = true
		out, err = sage2(c, in, x, cfg.Classes)
		fwd := sageFLOPs(n, e, f, hid) + n*hid + sageFLOPs(n, e, hid, cls) + 5*n*cls
		bwd := 2*n*cls +
			sageFLOPs(n, e, hid, cls) + 4*n*hid*cls + // layer 2: as its forward, plus dx of both linears
			n*hid + // ReLU
			sageFLOPs(n, e, f, hid) // layer 1: dW of both linears, aggregation and bias
		w.FLOPs = fwd + bwd + 10*(2*f*hid+hid+2*hid*cls+cls)
	default:
		return nil, fmt.Errorf("bench: unknown op %q (have %v)", op, Ops)
	}
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", op, err)
	}
	w.Params = c.Params()
	if train {
		all := make([]int, cfg.N)
		for i := range all {
			all[i] = i
		}
		loss, _, err := c.CrossEntropy(out, in.Labels, all)
		if err != nil {
			return nil, err
		}
		if _, err := G.Grad(loss, w.Params...); err != nil {
			return nil, fmt.Errorf("bench: %s: gradients: %w", op, err)
		}
		out = loss
		w.solver = G.NewAdamSolver(G.WithLearnRate(0.01))
	}
	if out == nil {
		return nil, errors.New("bench: no output")
	}
	w.outNode = out
	w.m = G.NewTapeMachine(c.Graph)
	return w, nil
}

// sage2 is SAGE-mean in -> Hidden, ReLU, SAGE-mean Hidden -> out.
func sage2(c *nn.Context, in *Inputs, x *G.Node, out int) (*G.Node, error) {
	l1, err := nn.NewSAGEConv(c, "sage1", nn.SAGEConfig{In: in.Cfg.F, Out: in.Cfg.Hidden, Aggr: nn.MeanAggr})
	if err != nil {
		return nil, err
	}
	l2, err := nn.NewSAGEConv(c, "sage2", nn.SAGEConfig{In: in.Cfg.Hidden, Out: out, Aggr: nn.MeanAggr})
	if err != nil {
		return nil, err
	}
	h, err := l1.Forward(in.Graph, x)
	if err != nil {
		return nil, err
	}
	if h, err = nn.ReLU(h); err != nil {
		return nil, err
	}
	return l2.Forward(in.Graph, h)
}

// gcn2 is GCN in -> Hidden, ReLU, GCN Hidden -> Classes.
func gcn2(c *nn.Context, in *Inputs, x *G.Node) (*G.Node, error) {
	l1, err := nn.NewGCNConv(c, "gcn1", in.Cfg.F, in.Cfg.Hidden)
	if err != nil {
		return nil, err
	}
	l2, err := nn.NewGCNConv(c, "gcn2", in.Cfg.Hidden, in.Cfg.Classes)
	if err != nil {
		return nil, err
	}
	h, err := l1.Forward(in.Graph, x)
	if err != nil {
		return nil, err
	}
	if h, err = nn.ReLU(h); err != nil {
		return nil, err
	}
	return l2.Forward(in.Graph, h)
}

// gcnFLOPs counts x W (n x in times in x out), propagation over e edges plus n self-loops, bias.
func gcnFLOPs(n, e, in, out float64) float64 { return 2*n*in*out + 2*(e+n)*out + n*out }

// sageFLOPs counts lin_l(mean) + lin_r(self) + bias, aggregating the narrower of in and out.
func sageFLOPs(n, e, in, out float64) float64 {
	return 2*e*min(in, out) + 4*n*in*out + 2*n*out
}
