package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

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
// alpha = 0.1 over a two-layer MLP of width 64 (models.APPNP). The graph must be square,
// unweighted and without self-loops (ops.GCNPropagate); P is computed on the fly.
type APPNP struct {
	K     int
	Alpha float64
}

// NewAPPNP returns the propagation with k >= 1 steps and teleport probability 0 <= alpha <= 1.
func NewAPPNP(k int, alpha float64) (*APPNP, error) {
	if k < 1 || !(alpha >= 0 && alpha <= 1) {
		return nil, fmt.Errorf("nn: APPNP with %d steps and alpha %v: want at least 1 step and 0 <= alpha <= 1", k, alpha)
	}
	return &APPNP{K: k, Alpha: alpha}, nil
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
		pz, err := ops.GCNPropagate(a, z, nil)
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
