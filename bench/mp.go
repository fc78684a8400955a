package bench

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/nn"
	"github.com/gnnlab/gognn/ops"
)

// The message-passing rows are written directly on the edge-level ops (gather, scatter, edge
// softmax), the path a new layer takes, not on fused layer ops. Their weights are seeded
// constants: the rows time forward passes only.

// gatv2Heads is the number of attention heads of gatv2_forward.
const gatv2Heads = 8

// gatv2 is one GATv2 layer (Brody et al., ICLR 2022) with self-loops, Hidden/8 channels per
// head concatenated, as PyTorch Geometric's GATv2Conv(F, Hidden/8, heads=8):
//
//	z_e   = LeakyReLU(x_j W_l + x_i W_r, 0.2)            (E', H*C), e = j -> i
//	s_eh  = sum_c att[h, c] z_e[h, c]                     (E', H)
//	alpha = softmax of s over the in-edges of each node
//	out_i = sum_{e into i} alpha_eh (x_j W_l)[h] + b
func gatv2(c *nn.Context, in *Inputs, x *G.Node) (*G.Node, error) {
	cfg := in.Cfg
	H, C := gatv2Heads, cfg.Hidden/gatv2Heads
	if H*C != cfg.Hidden {
		return nil, fmt.Errorf("hidden width %d is not a multiple of %d heads", cfg.Hidden, H)
	}
	a, err := in.Graph.AddSelfLoops(1)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	wl := c.Constant("gatv2_wl", glorotDense(rng, cfg.F, cfg.Hidden))
	wr := c.Constant("gatv2_wr", glorotDense(rng, cfg.F, cfg.Hidden))
	// The attention vectors, one of C per head, end to end (ops.HeadDot's layout).
	att := c.Constant("gatv2_att", glorotDense(rng, cfg.Hidden, 1))
	bias := c.Constant("gatv2_b", tensor.New(tensor.WithShape(cfg.Hidden), tensor.Of(tensor.Float32)))

	xl, err := ops.MatMul(x, wl)
	if err != nil {
		return nil, err
	}
	xr, err := ops.MatMul(x, wr)
	if err != nil {
		return nil, err
	}
	xj, err := ops.GatherSrc(a, xl)
	if err != nil {
		return nil, err
	}
	xi, err := ops.GatherDst(a, xr)
	if err != nil {
		return nil, err
	}
	z, err := ops.Add(xj, xi)
	if err != nil {
		return nil, err
	}
	if z, err = ops.LeakyReLU(z, 0.2); err != nil {
		return nil, err
	}
	s, err := ops.HeadDot(z, att, H)
	if err != nil {
		return nil, err
	}
	alpha, err := ops.EdgeSoftmax(a, s)
	if err != nil {
		return nil, err
	}
	out, err := ops.EdgeWeightedAggregate(a, xl, alpha)
	if err != nil {
		return nil, err
	}
	return ops.AddBias(out, bias)
}

// gatv2FLOPs counts the two projections, the per-edge add, LeakyReLU, the score (2 flops per
// element), the softmax (max, exp, sum,
// divide), the weighted sum and the bias; e counts self-loops.
func gatv2FLOPs(n, e, f, hid float64) float64 {
	return 4*n*f*hid + 5*e*hid + 5*e*gatv2Heads + 2*e*hid + n*hid
}

// gin is one GIN layer (Xu et al., ICLR 2019) with eps = 0 and a two-layer MLP, as PyTorch
// Geometric's GINConv(MLP([F, Hidden, Hidden])):
//
//	out = W_2 ReLU(W_1 ((1+eps) x_i + sum_{j -> i} x_j) + b_1) + b_2
func gin(c *nn.Context, in *Inputs, x *G.Node) (*G.Node, error) {
	cfg := in.Cfg
	a := in.Graph
	rng := rand.New(rand.NewPCG(cfg.Seed, 8))
	onePlusEps := G.NewScalar(c.Graph, tensor.Float32, G.WithName("gin_1_plus_eps"), G.WithValue(float32(1)))
	w1 := c.Constant("gin_w1", glorotDense(rng, cfg.F, cfg.Hidden))
	b1 := c.Constant("gin_b1", tensor.New(tensor.WithShape(cfg.Hidden), tensor.Of(tensor.Float32)))
	w2 := c.Constant("gin_w2", glorotDense(rng, cfg.Hidden, cfg.Hidden))
	b2 := c.Constant("gin_b2", tensor.New(tensor.WithShape(cfg.Hidden), tensor.Of(tensor.Float32)))

	m, err := ops.GatherSrc(a, x)
	if err != nil {
		return nil, err
	}
	agg, err := ops.ScatterSum(a, m)
	if err != nil {
		return nil, err
	}
	self, err := G.Mul(onePlusEps, x)
	if err != nil {
		return nil, err
	}
	h, err := ops.Add(self, agg)
	if err != nil {
		return nil, err
	}
	for k, wb := range [][2]*G.Node{{w1, b1}, {w2, b2}} {
		if k > 0 {
			if h, err = ops.ReLU(h); err != nil {
				return nil, err
			}
		}
		if h, err = ops.MatMul(h, wb[0]); err != nil {
			return nil, err
		}
		if h, err = ops.AddBias(h, wb[1]); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ginFLOPs counts the neighbour sum, (1+eps) x and the add, and the MLP with its biases and ReLU.
func ginFLOPs(n, e, f, hid float64) float64 {
	return e*f + 2*n*f + 2*n*f*hid + 2*n*hid*hid + 3*n*hid
}

// glorotDense returns a (rows, cols) float32 matrix uniform in +-sqrt(6/(rows+cols)).
func glorotDense(rng *rand.Rand, rows, cols int) *tensor.Dense {
	lim := math.Sqrt(6 / float64(rows+cols))
	v := make([]float32, rows*cols)
	for i := range v {
		v[i] = float32((rng.Float64()*2 - 1) * lim)
	}
	return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(v))
}
