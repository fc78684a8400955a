package nn

import (
	"fmt"
	"math"
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
	if err := m.refresh(c.shared.rng, c.shared.training); err != nil {
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
	if m.value.Dtype() == tensor.Float32 {
		fillMask(m.value.Float32s(), m.p, rng, training)
	} else {
		fillMask(m.value.Float64s(), m.p, rng, training)
	}
	return G.Let(m.node, m.value)
}

// fillMask sets each element to 1/(1-p) with probability 1-p and to 0 otherwise (all ones when
// not training). Each 64-bit draw decides two elements by its 32-bit halves, and the choice is
// made on bits, without a branch (each one a coin toss): the masks are a large share of a small
// model's epoch.
func fillMask[T float32 | float64](d []T, p float64, rng *rand.Rand, training bool) {
	if !training {
		for i := range d {
			d[i] = 1
		}
		return
	}
	threshold := uint64(p * (1 << 32))
	// keepBits(u) is all ones when the 32-bit draw u >= threshold (threshold-1-u < 0 as int64;
	// for p = 0 every draw keeps), and zero otherwise.
	keepBits := func(u uint64) uint64 { return uint64(int64(threshold-1-u) >> 63) }
	switch d := any(d).(type) {
	case []float32:
		keep := uint64(math.Float32bits(float32(1 / (1 - p))))
		for i := 0; i < len(d); i += 2 {
			r := rng.Uint64()
			d[i] = math.Float32frombits(uint32(keep & keepBits(r&0xffffffff)))
			if i+1 < len(d) {
				d[i+1] = math.Float32frombits(uint32(keep & keepBits(r>>32)))
			}
		}
	case []float64:
		keep := math.Float64bits(1 / (1 - p))
		for i := 0; i < len(d); i += 2 {
			r := rng.Uint64()
			d[i] = math.Float64frombits(keep & keepBits(r&0xffffffff))
			if i+1 < len(d) {
				d[i+1] = math.Float64frombits(keep & keepBits(r>>32))
			}
		}
	}
}
