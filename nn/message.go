package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// SoftmaxAggr is attention: each destination sums its messages weighted by the softmax, over
// its in-edges, of a score per edge (and head) that the message function returns.
const SoftmaxAggr Aggregator = "softmax"

// Message is what a message function returns for every edge j -> i of the graph: either the
// source rows of a node matrix, which the aggregation reads without materialising one row per
// edge (the fused kernels), or general per-edge values written as Gorgonia expressions over
// Edges.Src, Edges.Dst and Edges.Attr.
type Message struct {
	// Src (NumSrc, F) makes the message of edge j -> i row j of Src (DGL's copy_u). With
	// Weight or GraphWeights it is that row times a weight per edge (DGL's u_mul_e).
	Src *G.Node
	// Weight (E) or (E, H) weighs each source row by edge (and by head: the F columns of Src
	// are H blocks of F/H, block h weighted by column h).
	Weight *G.Node
	// GraphWeights weighs each source row by the graph's own edge weight (graph.CSR.Weights),
	// as a normalised adjacency (GCN) does.
	GraphWeights bool
	// Value (E, F) is a general message, one row per edge in the graph's edge order.
	Value *G.Node
	// Score (E) or (E, H) is the attention logit of each edge (and head), for SoftmaxAggr.
	Score *G.Node
}

// CopySrc returns the message "row j of h" for every edge j -> i.
func CopySrc(h *G.Node) Message { return Message{Src: h} }

// Edges is what a message function reads: the graph the messages run on (with self-loops when
// the layer adds them), the layer's input, and per-edge rows of any node matrix.
type Edges struct {
	Graph   *graph.CSR
	X       *G.Node // the layer's input, (Graph.NumSrc, F)
	c       *Context
	attr    *G.Node
	weights *G.Node
}

// Src returns the (E, F) source rows of h (Graph.NumSrc, F): row e is h[j] for edge e = j -> i
// (x_j in PyTorch Geometric's message). Its gradient scatters back onto h (ops.GatherSrc).
func (e *Edges) Src(h *G.Node) (*G.Node, error) {
	if err := e.some(); err != nil {
		return nil, err
	}
	return ops.GatherSrc(e.Graph, h)
}

// some reports an error for a graph without edges: Gorgonia's element-wise ops cannot run on
// the empty per-edge matrices a message would be built from. (Messages that are plain source
// rows never build them, and aggregate to zeros.)
func (e *Edges) some() error {
	if e.Graph.NumEdges() == 0 {
		return errNoEdges
	}
	return nil
}

var errNoEdges = fmt.Errorf("nn: per-edge messages on a graph without edges: Gorgonia cannot run element-wise ops on empty matrices; skip the layer or keep self-loops")

// Dst returns the (E, F) destination rows of h: row e is h[i] for edge e = j -> i (x_i). h has
// one row per destination or, on a sampled block whose destinations are the first NumDst
// sources, one row per source.
func (e *Edges) Dst(h *G.Node) (*G.Node, error) {
	if err := e.some(); err != nil {
		return nil, err
	}
	r, err := e.Root(h)
	if err != nil {
		return nil, err
	}
	return ops.GatherDst(e.Graph, r)
}

// SrcAddDst returns the (E, F) rows hs[j] + hd[i] for every edge j -> i in one op
// (ops.EdgeScores), without the two gathered matrices of Src and Dst (DGL's u_add_v). hd has
// one row per destination or, on a block, per source.
func (e *Edges) SrcAddDst(hs, hd *G.Node) (*G.Node, error) {
	if err := e.some(); err != nil {
		return nil, err
	}
	r, err := e.Root(hd)
	if err != nil {
		return nil, err
	}
	return ops.EdgeScores(e.Graph, hs, r)
}

// Root returns the destinations' own rows of h: h itself when it has Graph.NumDst rows, its
// first NumDst rows when it has one row per source of a block.
func (e *Edges) Root(h *G.Node) (*G.Node, error) {
	s := h.Shape()
	switch {
	case len(s) != 2:
		return nil, fmt.Errorf("nn: message passing: node matrix of shape %v, want (nodes, features)", s)
	case s[0] == e.Graph.NumDst:
		return h, nil
	case s[0] == e.Graph.NumSrc:
		return firstRows(h, e.Graph.NumDst)
	}
	return nil, fmt.Errorf("nn: message passing: node matrix with %d rows on a graph of %d sources and %d destinations", s[0], e.Graph.NumSrc, e.Graph.NumDst)
}

// Weights returns the graph's edge weights (graph.CSR.Weights) as an (E) constant in edge order:
// with MessagePassing.GCNNorm, the normalisation's 1/sqrt(d_i d_j), for a message that changes
// them (APPNP's dropout on the entries of P) before weighing Src by them.
func (e *Edges) Weights() (*G.Node, error) {
	if e.weights != nil {
		return e.weights, nil
	}
	if e.Graph.Weights == nil {
		return nil, fmt.Errorf("nn: the message reads edge weights but the graph has none: set MessagePassing.GCNNorm or pass a weighted graph")
	}
	if e.c == nil {
		return nil, fmt.Errorf("nn: the message reads edge weights on a layer made without a Context (use NewMessagePassing)")
	}
	e.weights = e.constant("edge_weights", e.Graph.Weights, tensor.Shape{len(e.Graph.Weights)})
	return e.weights, nil
}

// constant returns the graph's per-edge values vals (stored as float32) as a constant of the
// layer's dtype and the given shape.
func (e *Edges) constant(name string, vals []float32, shape tensor.Shape) *G.Node {
	data := make([]float64, len(vals))
	for i, v := range vals {
		data[i] = float64(v)
	}
	return e.c.Constant(name, newFrom(e.c.Dtype, shape, data))
}

// Attr returns the graph's edge attributes as an (E, D) constant, in edge order (e_ji in
// PyTorch Geometric's message).
func (e *Edges) Attr() (*G.Node, error) {
	if e.attr != nil {
		return e.attr, nil
	}
	if err := e.some(); err != nil {
		return nil, err
	}
	attr, dim := e.Graph.EdgeAttr()
	if dim == 0 {
		return nil, fmt.Errorf("nn: the message reads edge attributes but the graph has none: build it with graph.FromEdgesAttr or CSR.WithEdgeAttr")
	}
	e.attr = e.constant("edge_attr", attr, tensor.Shape{len(attr) / dim, dim})
	return e.attr, nil
}

// MessagePassing is the general message-passing layer, as PyTorch Geometric's MessagePassing and
// DGL's update_all:
//
//	x'_i = update( x_i, aggr_{j -> i} message(x_i, x_j, e_ji) )
//
// A layer supplies the message function, written with Gorgonia over Edges (source rows, destination
// rows, edge attributes), the aggregation (SumAggr, MeanAggr, MaxAggr, SoftmaxAggr, LSTMAggr)
// and optionally an update. Forward lowers it to gather, message and scatter ops (ops.GatherSrc,
// ops.GatherDst, ops.ScatterSum/Mean/Max, ops.EdgeSoftmax), and takes the fused kernels where
// the message is a plain or weighted source row, with no per-edge rows at all:
//
//	Src                        sum, mean, max: ops.SumAggregate, MeanAggregate, MaxAggregate
//	Src + GraphWeights         sum: ops.WeightedAggregate (GCN's kernel); with GCNNorm, over a
//	                           square unweighted graph without self-loops: ops.GCNPropagate,
//	                           which normalises on the fly
//	Src + Weight               sum: ops.EdgeWeightedAggregate
//	Src + Score, SoftmaxAggr   ops.EdgeSoftmax, then ops.EdgeWeightedAggregate (GAT's kernels)
//	Src, LSTMAggr              the LSTM over source rows (LSTM.Forward)
//	Value                      ops.ScatterSum/Mean/Max; softmax-weighted, then ScatterSum
//
// GATv2 (Brody et al., ICLR 2022) as the worked example: with x_l = x W_l and x_r = x W_r
// (Linear layers to H heads of C features), the score of edge j -> i is a^T LeakyReLU(x_l[j] +
// x_r[i]) per head, and the message is x_l[j], weighed by the softmax of the scores:
//
//	mp, _ := nn.NewMessagePassing(c, nn.SoftmaxAggr, func(e *nn.Edges) (nn.Message, error) {
//		xl, _ := linL.Forward(nil, e.X)         // (N, H*C)
//		xr, _ := linR.Forward(nil, e.X)
//		src, _ := e.Src(xl)                     // (E, H*C): x_l[j]
//		dst, _ := e.Dst(xr)                     // (E, H*C): x_r[i]
//		s, _ := gorgonia.Add(src, dst)          // or e.SrcAddDst(xl, xr), in one op
//		s, _ = nn.LeakyReLU(s, 0.2)
//		score, _ := gorgonia.Mul(s, att)        // (E, H): att is block-diagonal (H*C, H)
//		return nn.Message{Src: xl, Score: score}, nil // aggregated by the fused GAT kernels
//	})
//	mp.SelfLoops = true
//	out, _ := mp.Forward(a, x)                  // (N, H*C); mp.Attention() holds alpha
//
// GATv2Conv is that layer, with the per-head vectors, the bias and head averaging (and its
// scores fused into one op where no edge attributes enter them).
//
// The graph's derived copy with self-loops is cached per graph (graphs are immutable, see
// graph.CSR). After a Forward with SoftmaxAggr, Attention, Graph and NodeAttention read the
// attention coefficients as GATConv's do.
type MessagePassing struct {
	Aggr    Aggregator
	Message func(e *Edges) (Message, error)
	// Update maps the aggregated messages (Graph.NumDst rows) to the output; nil keeps them.
	// e.Root(e.X) gives the destinations' own input rows.
	Update func(e *Edges, aggr *G.Node) (*G.Node, error)
	// SelfLoops adds a self-loop to every node without one (the graph must be square); their
	// edge attributes are filled by LoopFill, by default (the zero AttrFill) a row of ones, as
	// graph.CSR.AddSelfLoops.
	SelfLoops bool
	LoopFill  graph.AttrFill
	// GCNNorm runs the layer over the graph's GCN normalisation (graph.CSR.GCNNorm, Kipf and
	// Welling): a self-loop on every node and the weight 1/sqrt(d_i d_j) on edge j -> i, which
	// messages read as GraphWeights or Edges.Weights. It adds the self-loops itself, so it
	// goes without SelfLoops. The message GCN propagates, Src with GraphWeights summed, runs
	// as ops.GCNPropagate without building the normalised graph's rows.
	GCNNorm bool
	// AttentionDropout is dropout on the softmax coefficients, in training mode.
	AttentionDropout float64
	// LSTM is the LSTMAggr aggregator, run over each destination's messages in edge order.
	LSTM *LSTM

	c     *Context
	loops derived[*graph.CSR]
	attention
}

var _ GraphLayer = (*MessagePassing)(nil)

// NewMessagePassing returns a message-passing layer with the aggregation and message function;
// set Update, SelfLoops, AttentionDropout or LSTM on it before the first Forward.
func NewMessagePassing(c *Context, aggr Aggregator, message func(e *Edges) (Message, error)) (*MessagePassing, error) {
	switch aggr {
	case SumAggr, MeanAggr, MaxAggr, SoftmaxAggr, LSTMAggr:
	default:
		return nil, fmt.Errorf("nn: message passing with aggregation %q: want sum, mean, max, softmax or lstm", aggr)
	}
	if message == nil {
		return nil, fmt.Errorf("nn: message passing with no message function")
	}
	return &MessagePassing{Aggr: aggr, Message: message, c: c}, nil
}

// ReadsGraph reports true.
func (p *MessagePassing) ReadsGraph() bool { return true }

// Forward runs message, aggregation and update over a for the input x (a.NumSrc, F).
func (p *MessagePassing) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	return p.run(a, x, p.Message)
}

// run is Forward with the given message function, for layers whose message closes over
// nodes computed in their Forward.
func (p *MessagePassing) run(a *graph.CSR, x *G.Node, message func(e *Edges) (Message, error)) (*G.Node, error) {
	if p.GCNNorm && p.SelfLoops {
		return nil, fmt.Errorf("nn: message passing with GCNNorm and SelfLoops: GCNNorm adds the self-loops itself; leave SelfLoops off")
	}
	g, err := p.loops.get(a, func(a *graph.CSR) (*graph.CSR, error) {
		if p.GCNNorm {
			return a.GCNNorm()
		}
		if !p.SelfLoops {
			return a, nil
		}
		if a.NumSrc != a.NumDst {
			return nil, fmt.Errorf("nn: message passing with self-loops on a bipartite graph (%d sources, %d destinations): self-loops need a square graph", a.NumSrc, a.NumDst)
		}
		if attr, _ := a.EdgeAttr(); attr != nil && (p.LoopFill.Value != nil || p.LoopFill.Reduce != "") {
			return a.AddSelfLoopsAttr(1, p.LoopFill)
		}
		return a.AddSelfLoops(1)
	})
	if err != nil {
		return nil, err
	}
	if s := x.Shape(); len(s) != 2 || s[0] != g.NumSrc {
		return nil, fmt.Errorf("nn: message passing input of shape %v on a graph of %d sources: want (%d, features)", s, g.NumSrc, g.NumSrc)
	}
	e := &Edges{Graph: g, X: x, c: p.c}
	m, err := message(e)
	if err != nil {
		return nil, err
	}
	var propagate *graph.CSR // a, when the GCN message can run as ops.GCNPropagate over it
	if p.GCNNorm && ops.GCNPropagateSupports(a) == nil {
		propagate = a
	}
	out, err := p.aggregate(g, m, propagate)
	if err != nil {
		return nil, err
	}
	if p.Update == nil {
		return out, nil
	}
	return p.Update(e, out)
}

// aggregate lowers the message and the aggregation to ops; propagate, when not nil, is the graph
// whose GCN normalisation g is, for ops.GCNPropagate.
func (p *MessagePassing) aggregate(g *graph.CSR, m Message, propagate *graph.CSR) (*G.Node, error) {
	if (m.Src == nil) == (m.Value == nil) {
		return nil, fmt.Errorf("nn: message passing: a message sets exactly one of Src and Value")
	}
	if m.Value != nil && (m.Weight != nil || m.GraphWeights) {
		return nil, fmt.Errorf("nn: message passing: Weight and GraphWeights weigh Src rows; multiply a Value message yourself")
	}
	if m.Weight != nil && m.GraphWeights {
		return nil, fmt.Errorf("nn: message passing: set Weight or GraphWeights, not both")
	}
	if m.GraphWeights && g.Weights == nil {
		return nil, fmt.Errorf("nn: message passing: GraphWeights on a graph without edge weights: normalise it first (graph.CSR.GCNNorm)")
	}
	if (m.Score != nil) != (p.Aggr == SoftmaxAggr) {
		return nil, fmt.Errorf("nn: message passing: a Score goes with the softmax aggregation and only with it (aggregation %q)", p.Aggr)
	}
	if m.Value != nil {
		if s := m.Value.Shape(); len(s) != 2 || s[0] != g.NumEdges() {
			return nil, fmt.Errorf("nn: message passing: message of shape %v on a graph of %d edges: want (%d, features)", s, g.NumEdges(), g.NumEdges())
		}
	}
	switch p.Aggr {
	case SoftmaxAggr:
		if g.NumEdges() == 0 {
			return nil, errNoEdges
		}
		if m.Weight != nil || m.GraphWeights {
			return nil, fmt.Errorf("nn: message passing: softmax attention weighs by its scores; fold other weights into the Score")
		}
		alpha, err := ops.EdgeSoftmax(g, m.Score)
		if err != nil {
			return nil, err
		}
		p.attention = attention{graph: g, alpha: alpha}
		if alpha, err = p.c.Dropout(alpha, p.AttentionDropout); err != nil {
			return nil, err
		}
		if m.Src != nil {
			return ops.EdgeWeightedAggregate(g, m.Src, alpha)
		}
		v, err := weighRows(m.Value, alpha)
		if err != nil {
			return nil, err
		}
		return ops.ScatterSum(g, v)
	case LSTMAggr:
		if p.LSTM == nil {
			return nil, fmt.Errorf("nn: message passing with the LSTM aggregation and no LSTM: set MessagePassing.LSTM (NewLSTM)")
		}
		if m.Src != nil && m.Weight == nil && !m.GraphWeights {
			return p.LSTM.Forward(g, m.Src)
		}
		v, err := p.values(g, m)
		if err != nil {
			return nil, err
		}
		return p.LSTM.Forward(edgeGraph(g), v)
	}
	if m.Src != nil {
		switch {
		case m.GraphWeights && p.Aggr == SumAggr && propagate != nil:
			return ops.GCNPropagate(propagate, m.Src, nil)
		case m.GraphWeights && p.Aggr == SumAggr:
			return ops.WeightedAggregate(g, m.Src)
		case m.Weight != nil && p.Aggr == SumAggr:
			return ops.EdgeWeightedAggregate(g, m.Src, m.Weight)
		case m.Weight == nil && !m.GraphWeights:
			switch p.Aggr {
			case SumAggr:
				return ops.SumAggregate(g, m.Src)
			case MeanAggr:
				return ops.MeanAggregate(g, m.Src)
			default:
				return ops.MaxAggregate(g, m.Src)
			}
		}
	}
	v, err := p.values(g, m)
	if err != nil {
		return nil, err
	}
	switch p.Aggr {
	case SumAggr:
		return ops.ScatterSum(g, v)
	case MeanAggr:
		return ops.ScatterMean(g, v)
	}
	return ops.ScatterMax(g, v)
}

// values materialises a message as (E, F) rows.
func (p *MessagePassing) values(g *graph.CSR, m Message) (*G.Node, error) {
	if m.Value != nil {
		return m.Value, nil
	}
	v, err := ops.GatherSrc(g, m.Src)
	if err != nil {
		return nil, err
	}
	switch {
	case m.Weight != nil:
		return weighRows(v, m.Weight)
	case m.GraphWeights:
		w := make([]float64, len(g.Weights))
		for i, x := range g.Weights {
			w[i] = float64(x)
		}
		return weighRows(v, p.c.Constant("edge_weight", newFrom(p.c.Dtype, tensor.Shape{len(w)}, w)))
	}
	return v, nil
}

// weighRows returns v (E, H*F) with block h of row e times w[e, h]; w is (E) or (E, H).
func weighRows(v, w *G.Node) (*G.Node, error) {
	vs, ws := v.Shape(), w.Shape()
	if len(ws) == 1 {
		col, err := G.Reshape(w, tensor.Shape{ws[0], 1})
		if err != nil {
			return nil, err
		}
		return G.BroadcastHadamardProd(v, col, nil, []byte{1})
	}
	if len(ws) != 2 || ws[0] != vs[0] || vs[1]%ws[1] != 0 {
		return nil, fmt.Errorf("nn: message passing: weights of shape %v do not fit messages of shape %v: want (E) or (E, heads) with heads dividing the width", ws, vs)
	}
	heads, f := ws[1], vs[1]/ws[1]
	if heads == 1 {
		return G.BroadcastHadamardProd(v, w, nil, []byte{1})
	}
	// w (E, H) times the (H, H*F) block matrix of ones repeats each head's weight over its block.
	spread := tensor.New(tensor.WithShape(heads, heads*f), tensor.Of(v.Dtype()))
	for h := 0; h < heads; h++ {
		for k := 0; k < f; k++ {
			setAt(spread, h*heads*f+h*f+k, 1)
		}
	}
	wide, err := G.Mul(w, G.NewConstant(spread))
	if err != nil {
		return nil, err
	}
	return G.HadamardProd(v, wide)
}

// edgeGraph returns the graph whose destination i has, as sources, the edges into i of g, in
// edge order: aggregating over it reduces per-edge rows onto their destinations.
func edgeGraph(g *graph.CSR) *graph.CSR {
	return &graph.CSR{NumSrc: g.NumEdges(), NumDst: g.NumDst, RowPtr: g.RowPtr, ColIdx: rangeIdx(0, g.NumEdges())}
}

// attention holds the coefficients of the last Forward of an attention layer.
type attention struct {
	graph *graph.CSR
	alpha *G.Node
}

// Graph returns the graph the attention is defined on (with self-loops when the layer adds
// them), after the first Forward.
func (t *attention) Graph() *graph.CSR { return t.graph }

// Attention returns the node of the attention coefficients before dropout, shape (E, Heads)
// (or (E) for a single unheaded score) in Graph()'s edge order, after the first Forward.
func (t *attention) Attention() *G.Node { return t.alpha }

// NodeAttention returns, for node i, the neighbours it attends to and their coefficients per
// head, from a value of Attention() read after a run (see gorgonia.Read).
func (t *attention) NodeAttention(alpha G.Value, i int) (src []int32, weights [][]float64, err error) {
	if t.graph == nil {
		return nil, nil, fmt.Errorf("nn: attention read before the first Forward")
	}
	if i < 0 || i >= t.graph.NumDst {
		return nil, nil, fmt.Errorf("nn: attention of node %d: out of range [0, %d)", i, t.graph.NumDst)
	}
	if d, ok := alpha.(*tensor.Dense); ok && d.Dims() == 1 {
		col := d.Clone().(*tensor.Dense)
		if err := col.Reshape(d.Shape()[0], 1); err != nil {
			return nil, nil, err
		}
		alpha = col
	}
	rows, err := Rows(alpha)
	if err != nil {
		return nil, nil, err
	}
	if len(rows) != t.graph.NumEdges() {
		return nil, nil, fmt.Errorf("nn: attention value has %d rows, the graph %d edges", len(rows), t.graph.NumEdges())
	}
	lo, hi := t.graph.RowPtr[i], t.graph.RowPtr[i+1]
	return t.graph.ColIdx[lo:hi:hi], rows[lo:hi:hi], nil
}
