package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
)

// APPNP is the propagation of Klicpera, Bojchevski and Günnemann, "Predict then Propagate: Graph
// Neural Networks meet Personalized PageRank" (ICLR 2019, eq. 7): K steps of power iteration
// towards personalised PageRank with teleport probability Alpha, over the predictions H of a
// network applied to each node first:
//
//	Z_0 = H,   Z_{k+1} = (1-alpha) P Z_k + alpha H,   output Z_K,   P = D^-1/2 (A+I) D^-1/2
//
// H and the output are (nodes, F); the layer has no parameters. The paper's setting is K = 10,
// alpha = 0.1 over a two-layer MLP of width 64 (models.APPNP).
//
// Each step P Z is a MessagePassing layer with GCNNorm whose message is the source row weighed
// by P's entry. With EdgeDropout p > 0, each step in training mode uses its own copy of P whose
// entries (self-loops included) are dropped with probability p and the rest scaled by 1/(1-p),
// as the authors' code does with the model's dropout rate: the message reads the entries
// (Edges.Weights), drops them and weighs by the result (ops.EdgeWeightedAggregate). Without it,
// P is computed on the fly by ops.GCNPropagate.
type APPNP struct {
	K           int
	Alpha       float64
	EdgeDropout float64

	c         *Context
	propagate *MessagePassing // P z, with P's entries dropped when EdgeDropout > 0
}

// NewAPPNP returns the propagation with k >= 1 steps, teleport probability 0 <= alpha <= 1 and
// dropout 0 <= edgeDropout < 1 on the entries of P.
func NewAPPNP(c *Context, k int, alpha, edgeDropout float64) (*APPNP, error) {
	if k < 1 || !(alpha >= 0 && alpha <= 1) {
		return nil, fmt.Errorf("nn: APPNP with %d steps and alpha %v: want at least 1 step and 0 <= alpha <= 1", k, alpha)
	}
	if !(edgeDropout >= 0 && edgeDropout < 1) {
		return nil, fmt.Errorf("nn: APPNP with edge dropout %v: want 0 <= p < 1", edgeDropout)
	}
	l := &APPNP{K: k, Alpha: alpha, EdgeDropout: edgeDropout, c: c}
	l.propagate = &MessagePassing{Aggr: SumAggr, GCNNorm: true, c: c, Message: func(e *Edges) (Message, error) {
		if l.EdgeDropout == 0 {
			return Message{Src: e.X, GraphWeights: true}, nil // ops.GCNPropagate
		}
		w, err := e.Weights()
		if err != nil {
			return Message{}, err
		}
		if w, err = l.c.Dropout(w, l.EdgeDropout); err != nil {
			return Message{}, err
		}
		return Message{Src: e.X, Weight: w}, nil
	}}
	return l, nil
}

// NewGCNPropagation returns the parameter-free layer x -> P x, P = D^-1/2 (A+I) D^-1/2 (Kipf and
// Welling), on the message-passing API: a MessagePassing with GCNNorm whose message, the source
// row weighed by the normalisation (GraphWeights) and summed, runs as ops.GCNPropagate over a
// square, unweighted graph without self-loops, and as ops.WeightedAggregate over the
// normalised graph otherwise. Forward(a, x) takes x of shape (a.NumSrc, F) to (a.NumDst, F).
// The normalised graph is derived on the first Forward over a and kept, so a layer that
// propagates several times (SGC's K steps, APPNP, a GCNII stack) reuses one. c may be nil.
func NewGCNPropagation(c *Context) *MessagePassing {
	return &MessagePassing{Aggr: SumAggr, GCNNorm: true, c: c, Message: func(e *Edges) (Message, error) {
		return Message{Src: e.X, GraphWeights: true}, nil
	}}
}

// step returns P z, with P's entries dropped when EdgeDropout > 0.
func (l *APPNP) step(a *graph.CSR, z *G.Node) (*G.Node, error) { return l.propagate.Forward(a, z) }

// Forward returns Z_K for the predictions h, a (a.NumDst, F) matrix.
func (l *APPNP) Forward(a *graph.CSR, h *G.Node) (*G.Node, error) {
	if s := h.Shape(); len(s) != 2 || s[0] != a.NumDst {
		return nil, fmt.Errorf("nn: APPNP expects a (%d, F) matrix of node predictions, got shape %v", a.NumDst, h.Shape())
	}
	teleport, err := G.Mul(h, scalarLike(h.Dtype(), l.Alpha))
	if err != nil {
		return nil, err
	}
	z := h
	for k := 0; k < l.K; k++ {
		pz, err := l.step(a, z)
		if err != nil {
			return nil, err
		}
		if pz, err = G.Mul(pz, scalarLike(h.Dtype(), 1-l.Alpha)); err != nil {
			return nil, err
		}
		if z, err = G.Add(pz, teleport); err != nil {
			return nil, err
		}
	}
	return z, nil
}

// Learnables returns nothing: the propagation has no parameters.
func (l *APPNP) Learnables() G.Nodes { return nil }

// ReadsGraph reports true.
func (l *APPNP) ReadsGraph() bool { return true }
