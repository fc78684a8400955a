package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/ops"
)

// ReLU returns max(x, 0), NaN kept, as one op of one pass (ops.ReLU).
func ReLU(x *G.Node) (*G.Node, error) { return ops.ReLU(x) }

// ELU returns x for x > 0 and exp(x) - 1 otherwise (alpha = 1), GAT's activation, built as
// relu(x) + expm1(-relu(-x)) from Gorgonia's element-wise ops.
func ELU(x *G.Node) (*G.Node, error) {
	neg, err := G.Neg(x)
	if err != nil {
		return nil, err
	}
	r, err := G.Rectify(neg)
	if err != nil {
		return nil, err
	}
	if r, err = G.Neg(r); err != nil { // min(x, 0)
		return nil, err
	}
	if r, err = G.Expm1(r); err != nil {
		return nil, err
	}
	pos, err := G.Rectify(x)
	if err != nil {
		return nil, err
	}
	return G.Add(pos, r)
}

// LeakyReLU returns x for x >= 0 and slope*x otherwise (0 <= slope <= 1): ops.LeakyReLU, one
// pass, where gorgonia.LeakyRelu takes six.
func LeakyReLU(x *G.Node, slope float64) (*G.Node, error) {
	if !(slope >= 0 && slope <= 1) {
		return nil, fmt.Errorf("nn: LeakyReLU slope %v: want 0 <= slope <= 1", slope)
	}
	if slope == 0 {
		return ops.ReLU(x)
	}
	return ops.LeakyReLU(x, slope)
}
