package nn

import (
	"fmt"
	"math"
	"sort"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// LSTM is a single-layer LSTM (Hochreiter & Schmidhuber) built from Gorgonia ops:
//
//	[i f g o] = x_t Wx + h_{t-1} Wh + b,   c_t = sigm(f) c_{t-1} + sigm(i) tanh(g),   h_t = sigm(o) tanh(c_t)
//
// Weights are initialised U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch.
type LSTM struct {
	In, Hidden int
	Wx, Wh, B  *G.Node
}

// NewLSTM adds an LSTM's parameters to the context's graph.
func NewLSTM(c *Context, name string, in, hidden int) (*LSTM, error) {
	if in <= 0 || hidden <= 0 {
		return nil, fmt.Errorf("nn: LSTM %q with %d inputs and %d hidden units: both must be positive", name, in, hidden)
	}
	k := 1 / math.Sqrt(float64(hidden))
	u := func(int) float64 { return (c.Rand().Float64()*2 - 1) * k }
	return &LSTM{
		In: in, Hidden: hidden,
		Wx: c.param(name+".weight_ih", tensor.Shape{in, 4 * hidden}, u),
		Wh: c.param(name+".weight_hh", tensor.Shape{hidden, 4 * hidden}, u),
		B:  c.param(name+".bias", tensor.Shape{4 * hidden}, u),
	}, nil
}

// Learnables returns the LSTM's parameters.
func (l *LSTM) Learnables() G.Nodes { return G.Nodes{l.Wx, l.Wh, l.B} }

// Neighbours runs the LSTM over each destination's in-neighbour features p (rows: a.NumSrc
// sources) in edge order (ascending source id, a defined order the result depends on) and returns
// the hidden state after each destination's last neighbour, shape (a.NumDst, Hidden), zeros for
// a node without in-edges.
//
// Sequences are packed as PyTorch's pack_padded_sequence does: destinations are ordered by
// in-degree, longest first, so at step t the n_t destinations with more than t neighbours are a
// prefix of the state and each step works on exactly its live rows. The total work is one LSTM
// step per edge rather than per destination per step of the longest sequence. The gathers into
// and out of that order are sum aggregations over index graphs, so their gradients come from the
// aggregation op.
func (l *LSTM) Neighbours(c *Context, a *graph.CSR, p *G.Node) (*G.Node, error) {
	if s := p.Shape(); len(s) != 2 || s[0] != a.NumSrc || s[1] != l.In {
		return nil, fmt.Errorf("nn: LSTM aggregation input has shape %v, want (%d, %d)", s, a.NumSrc, l.In)
	}
	n := a.NumDst
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	deg := func(i int) int { return a.RowPtr[i+1] - a.RowPtr[i] }
	sort.SliceStable(order, func(x, y int) bool { return deg(order[x]) > deg(order[y]) })
	var steps []int // steps[t] = destinations with more than t neighbours
	var packed []int32
	for t := 0; n > 0 && t < deg(order[0]); t++ {
		k := 0
		for k < n && deg(order[k]) > t {
			packed = append(packed, a.ColIdx[a.RowPtr[order[k]]+t])
			k++
		}
		steps = append(steps, k)
	}
	H := l.Hidden
	zero := tensor.New(tensor.WithShape(n, H), tensor.Of(c.Dtype))
	if len(steps) == 0 {
		return c.Constant("lstm_empty", zero), nil
	}
	seq, err := ops.SumAggregate(indexGraph(a.NumSrc, packed), p)
	if err != nil {
		return nil, err
	}
	// The input projection of every step at once: one large matmul instead of one per step.
	xw, err := G.Mul(seq, l.Wx)
	if err != nil {
		return nil, err
	}
	h := c.Constant("lstm_h0", zero)
	cell := c.Constant("lstm_c0", zero.Clone().(*tensor.Dense))
	off := 0
	for _, live := range steps {
		xt, err := gatherRows(xw, rangeIdx(off, off+live))
		if err != nil {
			return nil, err
		}
		off += live
		hLive, err := firstRows(h, live)
		if err != nil {
			return nil, err
		}
		cLive, err := firstRows(cell, live)
		if err != nil {
			return nil, err
		}
		hNew, cNew, err := l.step(xt, hLive, cLive)
		if err != nil {
			return nil, err
		}
		if live < n {
			// Rows past the live prefix have ended and keep their state.
			if hNew, err = keepTail(hNew, h, live, n); err != nil {
				return nil, err
			}
			if cNew, err = keepTail(cNew, cell, live, n); err != nil {
				return nil, err
			}
		}
		h, cell = hNew, cNew
	}
	// Back from degree order to node order: row i of the result is row pos(i) of h.
	pos := make([]int32, n)
	for k, i := range order {
		pos[i] = int32(k)
	}
	return ops.SumAggregate(indexGraph(n, pos), h)
}

// keepTail returns the live rows' new state followed by rows live..n-1 of the old one.
func keepTail(live, old *G.Node, n0, n int) (*G.Node, error) {
	tail, err := gatherRows(old, rangeIdx(n0, n))
	if err != nil {
		return nil, err
	}
	return G.Concat(0, live, tail)
}

// step is one LSTM cell update of the given rows.
func (l *LSTM) step(xw, h, cell *G.Node) (hNew, cNew *G.Node, err error) {
	H := l.Hidden
	hw, err := G.Mul(h, l.Wh)
	if err != nil {
		return nil, nil, err
	}
	z, err := G.Add(xw, hw)
	if err != nil {
		return nil, nil, err
	}
	if z, err = AddBias(z, l.B); err != nil {
		return nil, nil, err
	}
	var gs [4]*G.Node
	for k := range gs {
		if gs[k], err = G.Slice(z, nil, G.S(k*H, (k+1)*H)); err != nil {
			return nil, nil, err
		}
	}
	i, err := G.Sigmoid(gs[0])
	if err != nil {
		return nil, nil, err
	}
	f, err := G.Sigmoid(gs[1])
	if err != nil {
		return nil, nil, err
	}
	g, err := G.Tanh(gs[2])
	if err != nil {
		return nil, nil, err
	}
	o, err := G.Sigmoid(gs[3])
	if err != nil {
		return nil, nil, err
	}
	fc, err := G.HadamardProd(f, cell)
	if err != nil {
		return nil, nil, err
	}
	ig, err := G.HadamardProd(i, g)
	if err != nil {
		return nil, nil, err
	}
	if cNew, err = G.Add(fc, ig); err != nil {
		return nil, nil, err
	}
	tc, err := G.Tanh(cNew)
	if err != nil {
		return nil, nil, err
	}
	hNew, err = G.HadamardProd(o, tc)
	return hNew, cNew, err
}
