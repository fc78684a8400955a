package nn

import (
	"fmt"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dropout returns x with each element zeroed with probability p and the rest scaled by 1/(1-p)
// in training mode (inverted dropout, as torch.nn.functional.dropout), and x unchanged in
// evaluation mode. x may be a matrix of node features or a vector (the values of sparse
// features, or per-edge attention). p = 0 returns x itself.
func (c *Context) Dropout(x *G.Node, p float64) (*G.Node, error) {
	if p < 0 || p >= 1 || p != p {
		return nil, fmt.Errorf("nn: dropout probability %v: want 0 <= p < 1", p)
	}
	if p == 0 {
		return x, nil
	}
	if x.Dtype() != c.Dtype {
		return nil, fmt.Errorf("nn: dropout on a %v node in a %v model", x.Dtype(), c.Dtype)
	}
	v := tensor.New(tensor.WithShape(x.Shape()...), tensor.Of(c.Dtype))
	m := &dropoutMask{p: p, value: v}
	m.node = c.Constant("dropout_mask", v)
	if err := m.refresh(c.rng, c.training); err != nil {
		return nil, err
	}
	c.masks = append(c.masks, m)
	return G.HadamardProd(x, m.node)
}

type dropoutMask struct {
	p     float64
	value *tensor.Dense
	node  *G.Node
}

func (m *dropoutMask) refresh(rng *rand.Rand, training bool) error {
	keep := 1 / (1 - m.p)
	if m.value.Dtype() == tensor.Float32 {
		d := m.value.Float32s()
		for i := range d {
			d[i] = 1
			if training {
				d[i] = 0
				if rng.Float64() >= m.p {
					d[i] = float32(keep)
				}
			}
		}
	} else {
		d := m.value.Float64s()
		for i := range d {
			d[i] = 1
			if training {
				d[i] = 0
				if rng.Float64() >= m.p {
					d[i] = keep
				}
			}
		}
	}
	return G.Let(m.node, m.value)
}
