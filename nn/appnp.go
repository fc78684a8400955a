package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
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
// With EdgeDropout p > 0, each step in training mode uses its own copy of P whose entries
// (self-loops included) are dropped with probability p and the rest scaled by 1/(1-p), as the
// authors' code does with the model's dropout rate: the steps then run over the normalised
// graph (graph.CSR.GCNNorm) with per-edge weights (ops.EdgeWeightedAggregate). Without it, P is
// computed on the fly by ops.GCNPropagate, which needs a square, unweighted graph without
// self-loops.
type APPNP struct {
	K           int
	Alpha       float64
	EdgeDropout float64

	c         *Context
	normFor   *graph.CSR
	norm      *graph.CSR // P as a weighted graph, for EdgeDropout
	normValue *tensor.Dense
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
	return &APPNP{K: k, Alpha: alpha, EdgeDropout: edgeDropout, c: c}, nil
}

// step returns P z, with P's entries dropped when EdgeDropout > 0.
func (l *APPNP) step(a *graph.CSR, z *G.Node) (*G.Node, error) {
	if l.EdgeDropout == 0 {
		return ops.GCNPropagate(a, z, nil)
	}
	if l.normFor != a {
		norm, err := a.GCNNorm()
		if err != nil {
			return nil, err
		}
		w := tensor.New(tensor.WithShape(norm.NumEdges()), tensor.Of(l.c.Dtype))
		for e, v := range norm.Weights {
			if err := w.SetAt(castTo(l.c.Dtype, float64(v)), e); err != nil {
				return nil, err
			}
		}
		l.normFor, l.norm, l.normValue = a, norm, w
	}
	w := l.c.Constant("appnp.edge_weights", l.normValue)
	wd, err := l.c.Dropout(w, l.EdgeDropout)
	if err != nil {
		return nil, err
	}
	return ops.EdgeWeightedAggregate(l.norm, z, wd)
}

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
