package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
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

// Last runs the LSTM over n sequences of up to steps inputs laid out time-major in seq, shape
// (steps*n, In) (row t*n + k is step t of sequence k), where mask[t*n+k] is 1 for a real step and
// 0 for padding; padding leaves a sequence's state unchanged, so the result, shape (n, Hidden),
// is each sequence's hidden state after its last real step (zeros for an empty sequence).
func (l *LSTM) Last(c *Context, seq *G.Node, mask []float64, steps, n int) (*G.Node, error) {
	if s := seq.Shape(); len(s) != 2 || s[0] != steps*n || s[1] != l.In {
		return nil, fmt.Errorf("nn: LSTM input has shape %v, want (%d, %d)", s, steps*n, l.In)
	}
	if len(mask) != steps*n {
		return nil, fmt.Errorf("nn: LSTM mask has %d entries, want %d", len(mask), steps*n)
	}
	H := l.Hidden
	// The input projection of every step at once: one large matmul instead of steps small ones.
	xw, err := G.Mul(seq, l.Wx)
	if err != nil {
		return nil, err
	}
	zero := tensor.New(tensor.WithShape(n, H), tensor.Of(c.Dtype))
	h := c.Constant("lstm_h0", zero)
	cell := c.Constant("lstm_c0", zero.Clone().(*tensor.Dense))
	gate := func(z *G.Node, k int) (*G.Node, error) { return G.Slice(z, nil, G.S(k*H, (k+1)*H)) }
	for t := 0; t < steps; t++ {
		xt, err := G.Slice(xw, G.S(t*n, (t+1)*n))
		if err != nil {
			return nil, err
		}
		hw, err := G.Mul(h, l.Wh)
		if err != nil {
			return nil, err
		}
		z, err := G.Add(xt, hw)
		if err != nil {
			return nil, err
		}
		if z, err = AddBias(z, l.B); err != nil {
			return nil, err
		}
		var gs [4]*G.Node
		for k := range gs {
			if gs[k], err = gate(z, k); err != nil {
				return nil, err
			}
		}
		i, f, o := G.Must(G.Sigmoid(gs[0])), G.Must(G.Sigmoid(gs[1])), G.Must(G.Sigmoid(gs[3]))
		g := G.Must(G.Tanh(gs[2]))
		cNew := G.Must(G.Add(G.Must(G.HadamardProd(f, cell)), G.Must(G.HadamardProd(i, g))))
		hNew := G.Must(G.HadamardProd(o, G.Must(G.Tanh(cNew))))

		m := tensor.New(tensor.WithShape(n, 1), tensor.Of(c.Dtype))
		all := true
		for k := 0; k < n; k++ {
			setAt(m, k, mask[t*n+k])
			all = all && mask[t*n+k] == 1
		}
		if all {
			h, cell = hNew, cNew
			continue
		}
		// state += mask * (new - state): padded steps keep the previous state.
		mn := c.Constant("lstm_mask", m)
		keep := func(old, nw *G.Node) (*G.Node, error) {
			d, err := G.Sub(nw, old)
			if err != nil {
				return nil, err
			}
			md, err := G.BroadcastHadamardProd(mn, d, []byte{1}, nil)
			if err != nil {
				return nil, err
			}
			return G.Add(old, md)
		}
		if h, err = keep(h, hNew); err != nil {
			return nil, err
		}
		if cell, err = keep(cell, cNew); err != nil {
			return nil, err
		}
	}
	return h, nil
}
