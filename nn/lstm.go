package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// LSTM is a single-layer LSTM (Hochreiter & Schmidhuber):
//
//	[i f g o] = x_t Wx + h_{t-1} Wh + b,   c_t = sigm(f) c_{t-1} + sigm(i) tanh(g),   h_t = sigm(o) tanh(c_t)
//
// The recurrence over the steps is one fused op, ops.LSTMSequence, with its backward pass
// through time; the input projection of all steps is one matmul before it. Weights are
// initialised U(-1/sqrt(H), 1/sqrt(H)) as in PyTorch.
type LSTM struct {
	In, Hidden int
	Wx, Wh, B  *G.Node
	// Shuffle makes Neighbours visit each destination's neighbours in a random order drawn from
	// the context when the graph is built, as GraphSAGE applies its LSTM to a random
	// permutation of the neighbours so that it learns not to depend on their order. Set it on
	// graphs built for training (one per mini-batch); evaluation uses the edge order.
	Shuffle bool

	c *Context
}

var _ GraphLayer = (*LSTM)(nil)

// ReadsGraph reports true: the LSTM runs over each destination's neighbours.
func (l *LSTM) ReadsGraph() bool { return true }

// NewLSTM adds an LSTM's parameters to the context's graph.
func NewLSTM(c *Context, name string, in, hidden int) (*LSTM, error) {
	if in <= 0 || hidden <= 0 {
		return nil, fmt.Errorf("nn: LSTM %q with %d inputs and %d hidden units: both must be positive", name, in, hidden)
	}
	k := 1 / math.Sqrt(float64(hidden))
	u := func(rng *rand.Rand, _ tensor.Shape, d []float64) {
		for i := range d {
			d[i] = (rng.Float64()*2 - 1) * k
		}
	}
	forgetOne := func(rng *rand.Rand, s tensor.Shape, d []float64) {
		u(rng, s, d)
		for i := hidden; i < 2*hidden; i++ {
			d[i]++ // the forget gate's bias starts at 1
		}
	}
	return &LSTM{
		In: in, Hidden: hidden, c: c,
		Wx: c.param(name+".weight_ih", tensor.Shape{in, 4 * hidden}, u),
		Wh: c.param(name+".weight_hh", tensor.Shape{hidden, 4 * hidden}, u),
		B:  c.param(name+".bias", tensor.Shape{4 * hidden}, forgetOne),
	}, nil
}

// Learnables returns the LSTM's parameters.
func (l *LSTM) Learnables() G.Nodes { return G.Nodes{l.Wx, l.Wh, l.B} }

// Forward runs the LSTM over each destination's in-neighbour features p (rows: a.NumSrc
// sources) in edge order (or, with Shuffle, in an order drawn when the graph is built; the
// result depends on the order) and returns
// the hidden state after each destination's last neighbour, shape (a.NumDst, Hidden), zeros for
// a node without in-edges.
//
// Sequences are packed as PyTorch's pack_padded_sequence does: destinations are ordered by
// in-degree, longest first, so at step t the n_t destinations with more than t neighbours are a
// prefix of the state and each step works on exactly its live rows. The total work is one LSTM
// step per edge rather than per destination per step of the longest sequence. The gathers into
// and out of that order are sum aggregations over index graphs, so their gradients come from the
// aggregation op.
func (l *LSTM) Forward(a *graph.CSR, p *G.Node) (*G.Node, error) {
	c := l.c
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
	nbrs := a.ColIdx
	if l.Shuffle {
		nbrs = append([]int32(nil), a.ColIdx...)
		rng := c.Rand()
		for i := 0; i < n; i++ {
			row := nbrs[a.RowPtr[i]:a.RowPtr[i+1]]
			rng.Shuffle(len(row), func(x, y int) { row[x], row[y] = row[y], row[x] })
		}
	}
	var steps []int // steps[t] = destinations with more than t neighbours
	var packed []int32
	for t := 0; n > 0 && t < deg(order[0]); t++ {
		k := 0
		for k < n && deg(order[k]) > t {
			packed = append(packed, nbrs[a.RowPtr[order[k]]+t])
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
	h, err := ops.LSTMSequence(xw, l.Wh, l.B, n, steps)
	if err != nil {
		return nil, err
	}
	// Back from degree order to node order: row i of the result is row pos(i) of h.
	pos := make([]int32, n)
	for k, i := range order {
		pos[i] = int32(k)
	}
	return ops.SumAggregate(indexGraph(n, pos), h)
}
