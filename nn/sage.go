package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// Aggregator names a GraphSAGE neighbourhood aggregator.
type Aggregator string

// The aggregators of Hamilton et al. (NeurIPS 2017), plus sum.
const (
	MeanAggr Aggregator = "mean"
	MaxAggr  Aggregator = "max" // max-pool: element-wise max of relu(W_pool x_j + b_pool)
	SumAggr  Aggregator = "sum"
	LSTMAggr Aggregator = "lstm" // an LSTM over the neighbours in edge order (ascending source id)
)

// SAGEConfig sets up a GraphSAGE layer.
type SAGEConfig struct {
	In, Out    int
	Aggr       Aggregator
	NoRoot     bool // drop the root weight: x'_i = W_l agg_j x_j only
	Normalize  bool // divide each output row by its L2 norm
	PoolHidden int  // width of the max-pool and LSTM projection (default Out)
}

// SAGEConv is the GraphSAGE layer as in PyTorch Geometric's SAGEConv:
//
//	x'_i = W_l agg_{j -> i} p(x_j) + b + W_r x_i       (then x'_i / ||x'_i||_2 with Normalize)
//
// where p is the identity for mean and sum, relu(W_pool x + b_pool) for max-pool, and a linear
// projection for the LSTM aggregator. It runs on a graph or on a sampled graph.Block's bipartite
// graph, whose destinations are its first NumDst sources, so x'_i reads the root x_i from row i.
// Mean and sum are linear, so when In >= Out (or the input is sparse) x is multiplied by W_l
// before aggregating, which gives the same result on no more columns; with a root weight the
// aggregation, the root and the bias are then one op (ops.SAGEPropagate).
type SAGEConv struct {
	Cfg        SAGEConfig
	LinL, LinR *Linear
	Pool       *Linear // max-pool and LSTM projection
	Seq        *LSTM
}

var _ interface {
	GraphLayer
	FeaturesLayer
} = (*SAGEConv)(nil)

// NewSAGEConv adds a GraphSAGE layer's parameters to the context's graph.
func NewSAGEConv(c *Context, name string, cfg SAGEConfig) (*SAGEConv, error) {
	if cfg.PoolHidden == 0 {
		cfg.PoolHidden = cfg.Out
	}
	l := &SAGEConv{Cfg: cfg}
	in := cfg.In
	var err error
	switch cfg.Aggr {
	case MeanAggr, SumAggr:
	case MaxAggr:
		if l.Pool, err = NewLinear(c, name+".pool", cfg.In, cfg.PoolHidden, true); err != nil {
			return nil, err
		}
		in = cfg.PoolHidden
	case LSTMAggr:
		if l.Pool, err = NewLinear(c, name+".proj", cfg.In, cfg.PoolHidden, false); err != nil {
			return nil, err
		}
		if l.Seq, err = NewLSTM(c, name+".lstm", cfg.PoolHidden, cfg.PoolHidden); err != nil {
			return nil, err
		}
		in = cfg.PoolHidden
	default:
		return nil, fmt.Errorf("nn: SAGE layer %q: unknown aggregator %q (have mean, max, sum, lstm)", name, cfg.Aggr)
	}
	if l.LinL, err = NewLinear(c, name+".lin_l", in, cfg.Out, true); err != nil {
		return nil, err
	}
	if !cfg.NoRoot {
		if l.LinR, err = NewLinear(c, name+".lin_r", cfg.In, cfg.Out, false); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Forward applies the layer over a (a graph, or a block's Graph) to the features x of its
// a.NumSrc source nodes and returns the a.NumDst destinations' outputs.
func (l *SAGEConv) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	return l.ForwardFeatures(a, Dense{x})
}

// ReadsGraph reports true: the layer aggregates over the graph.
func (l *SAGEConv) ReadsGraph() bool { return true }

// ForwardFeatures is Forward for dense or sparse features.
func (l *SAGEConv) ForwardFeatures(a *graph.CSR, x Features) (*G.Node, error) {
	if a == nil {
		return nil, fmt.Errorf("nn: SAGE layer %s was given no graph", l.LinL.W.Name())
	}
	rows, cols := x.Shape()
	if rows != a.NumSrc || cols != l.Cfg.In {
		return nil, fmt.Errorf("nn: SAGE layer %s: input is %d x %d, want %d x %d", l.LinL.W.Name(), rows, cols, a.NumSrc, l.Cfg.In)
	}
	if l.fused(x) {
		// x W_l and x W_r, then aggregation, root and bias in one op.
		neigh, err := l.LinL.product(x)
		if err != nil {
			return nil, err
		}
		self, err := l.LinR.product(x)
		if err != nil {
			return nil, err
		}
		out, err := ops.SAGEPropagate(a, neigh, self, l.LinL.B, l.Cfg.Aggr == MeanAggr)
		if err != nil || !l.Cfg.Normalize {
			return out, err
		}
		return L2Normalize(out)
	}
	neigh, err := l.neighbours(a, x)
	if err != nil {
		return nil, err
	}
	out := neigh
	if l.LinR != nil {
		// The destinations are the first NumDst sources; transforming every source and keeping
		// the first rows avoids slicing (sparse) inputs.
		all, err := l.LinR.Apply(x)
		if err != nil {
			return nil, err
		}
		r, err := firstRows(all, a.NumDst)
		if err != nil {
			return nil, err
		}
		if out, err = G.Add(neigh, r); err != nil {
			return nil, err
		}
	}
	if l.Cfg.Normalize {
		return L2Normalize(out)
	}
	return out, nil
}

// fused reports whether Forward combines aggregation, root and bias in ops.SAGEPropagate: mean
// and sum with a root weight, when they project first.
func (l *SAGEConv) fused(x Features) bool {
	return (l.Cfg.Aggr == MeanAggr || l.Cfg.Aggr == SumAggr) && l.LinR != nil && l.projectFirst(x)
}

// projectFirst reports whether mean and sum multiply by W_l before aggregating: for sparse
// inputs, or when the projection does not widen the rows.
func (l *SAGEConv) projectFirst(x Features) bool {
	_, dense := x.(Dense)
	return !dense || l.Cfg.In >= l.Cfg.Out
}

func (l *SAGEConv) neighbours(a *graph.CSR, x Features) (*G.Node, error) {
	dense := func(f Features) (*G.Node, error) {
		if d, ok := f.(Dense); ok {
			return d.X, nil
		}
		return nil, fmt.Errorf("nn: SAGE %s aggregation of sparse features: project them first", l.Cfg.Aggr)
	}
	switch l.Cfg.Aggr {
	case MeanAggr, SumAggr:
		agg := ops.MeanAggregate
		if l.Cfg.Aggr == SumAggr {
			agg = ops.SumAggregate
		}
		if l.projectFirst(x) {
			xw, err := x.Mul(l.LinL.W)
			if err != nil {
				return nil, err
			}
			h, err := agg(a, xw)
			if err != nil {
				return nil, err
			}
			return AddBias(h, l.LinL.B)
		}
		xd, err := dense(x)
		if err != nil {
			return nil, err
		}
		h, err := agg(a, xd)
		if err != nil {
			return nil, err
		}
		return l.LinL.Forward(nil, h)
	case MaxAggr:
		p, err := l.Pool.Apply(x)
		if err != nil {
			return nil, err
		}
		if p, err = ReLU(p); err != nil {
			return nil, err
		}
		h, err := ops.MaxAggregate(a, p)
		if err != nil {
			return nil, err
		}
		return l.LinL.Forward(nil, h)
	default: // LSTM
		p, err := l.Pool.Apply(x)
		if err != nil {
			return nil, err
		}
		h, err := l.Seq.Forward(a, p)
		if err != nil {
			return nil, err
		}
		return l.LinL.Forward(nil, h)
	}
}

// Learnables returns the layer's parameters.
func (l *SAGEConv) Learnables() G.Nodes {
	var ps G.Nodes
	if l.Pool != nil {
		ps = append(ps, l.Pool.Learnables()...)
	}
	if l.Seq != nil {
		ps = append(ps, l.Seq.Learnables()...)
	}
	ps = append(ps, l.LinL.Learnables()...)
	if l.LinR != nil {
		ps = append(ps, l.LinR.Learnables()...)
	}
	return ps
}

// L2Normalize divides each row of x by its Euclidean norm (rows of zeros stay near zero: the
// norm is floored at 1e-12, as torch.nn.functional.normalize does).
func L2Normalize(x *G.Node) (*G.Node, error) {
	sq, err := G.Square(x)
	if err != nil {
		return nil, err
	}
	s, err := G.Sum(sq, 1)
	if err != nil {
		return nil, err
	}
	eps := G.NewConstant(1e-24)
	if x.Dtype() == tensor.Float32 {
		eps = G.NewConstant(float32(1e-24))
	}
	if s, err = G.Add(s, eps); err != nil {
		return nil, err
	}
	norm, err := G.Sqrt(s)
	if err != nil {
		return nil, err
	}
	if norm, err = G.Reshape(norm, tensor.Shape{x.Shape()[0], 1}); err != nil {
		return nil, err
	}
	return G.BroadcastHadamardDiv(x, norm, nil, []byte{1})
}
