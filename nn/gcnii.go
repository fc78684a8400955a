package nn

import (
	"errors"
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/ops"
)

// GCNIIConv is one layer of GCNII (Chen, Wei, Huang, Ding and Li, "Simple and Deep Graph
// Convolutional Networks", ICML 2020, eq. 5):
//
//	X' = ((1-alpha) P X + alpha X0) ((1-beta) I + beta W),   P = D^-1/2 (A+I) D^-1/2
//
// with the initial residual X0 (the output of the model's first, dense layer) and the identity
// mapping beta = log(lambda/l + 1) for layer l = 1, 2, ... X, X0 and X' are (nodes, Dim); W is
// (Dim, Dim), initialised U(-1/sqrt(Dim), 1/sqrt(Dim)) as the authors' code, with no bias. The
// activation is the caller's (the paper applies ReLU after every layer).
//
// X0 reaches the layer through its Initial field, which must be set before Forward: the layer
// keeps the one-argument Forward(a, x) of every layer. GCNII, the stack, sets it for each of its
// layers to the stack's input, which is how the paper wires it. The output is computed as
//
//	X' = (P X + alpha/(1-alpha) X0) M,   M = (1-alpha) ((1-beta) I + beta W)
//
// the same value with the scalings folded into one (Dim, Dim) matrix built per run, so the
// nodes are passed over once for the propagation, once for the sum and once for the product;
// alpha/(1-alpha) X0 is built once per stack. The graph must be square, unweighted and without
// self-loops for P to be computed on the fly (a MessagePassing with GCNNorm, ops.GCNPropagate).
type GCNIIConv struct {
	Dim          int
	Alpha, Beta  float64
	W            *G.Node
	Initial      *G.Node         // X0, (nodes, Dim): set before Forward
	scaledFor    *G.Node         // Initial for which scaled was built
	scaled       *G.Node         // alpha/(1-alpha) X0, shared by every layer of a stack
	mixed        *G.Node         // M
	identityPart *G.Node         // (1-alpha) (1-beta) I
	propagate    *MessagePassing // P x on the message-passing API, shared by a stack's layers
}

// GCNIIBeta returns the identity-mapping strength of layer l (from 1): log(lambda/l + 1).
func GCNIIBeta(lambda float64, l int) float64 { return math.Log(lambda/float64(l) + 1) }

// NewGCNIIConv adds layer l (counted from 1) of a GCNII stack of width dim to the context's
// graph, with beta = GCNIIBeta(lambda, l), 0 <= alpha < 1 and lambda > 0.
func NewGCNIIConv(c *Context, name string, dim, l int, alpha, lambda float64) (*GCNIIConv, error) {
	if dim <= 0 || l <= 0 {
		return nil, fmt.Errorf("nn: GCNII layer %q of width %d at depth %d: both must be positive", name, dim, l)
	}
	if !(alpha >= 0 && alpha < 1) || !(lambda > 0) {
		return nil, fmt.Errorf("nn: GCNII layer %q with alpha %v and lambda %v: want 0 <= alpha < 1 and lambda > 0", name, alpha, lambda)
	}
	bound := 1 / math.Sqrt(float64(dim))
	w := c.param(name+".weight", tensor.Shape{dim, dim}, Uniform(-bound, bound))
	return &GCNIIConv{Dim: dim, Alpha: alpha, Beta: GCNIIBeta(lambda, l), W: w, propagate: NewGCNPropagation(c)}, nil
}

// Forward returns the layer's output for node features x of shape (a.NumDst, Dim), with
// l.Initial as X0.
func (l *GCNIIConv) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	if l.Initial == nil {
		return nil, errors.New("nn: GCNII layer without an initial representation: set Initial to X0 (the first layer's output) or use the GCNII stack")
	}
	if err := checkWidth("GCNII layer", x, l.Dim); err != nil {
		return nil, err
	}
	if err := checkWidth("GCNII initial representation", l.Initial, l.Dim); err != nil {
		return nil, err
	}
	if x.Shape()[0] != l.Initial.Shape()[0] {
		return nil, fmt.Errorf("nn: GCNII layer: x has %d rows and the initial representation %d: want the same nodes", x.Shape()[0], l.Initial.Shape()[0])
	}
	g := x.Graph()
	if l.scaledFor != l.Initial || l.scaled == nil || l.scaled.Graph() != g {
		s, err := G.Mul(l.Initial, scalarLike(x.Dtype(), l.Alpha/(1-l.Alpha)))
		if err != nil {
			return nil, err
		}
		l.scaledFor, l.scaled = l.Initial, s
	}
	if l.mixed == nil || l.mixed.Graph() != g {
		eye := tensor.New(tensor.WithShape(l.Dim, l.Dim), tensor.Of(x.Dtype()))
		for i := 0; i < l.Dim; i++ {
			if err := eye.SetAt(castTo(x.Dtype(), (1-l.Alpha)*(1-l.Beta)), i, i); err != nil {
				return nil, err
			}
		}
		l.identityPart = G.NewTensor(g, x.Dtype(), 2, G.WithShape(l.Dim, l.Dim), G.WithValue(eye), G.WithName(l.W.Name()+".identity"))
		bw, err := G.Mul(l.W, scalarLike(x.Dtype(), (1-l.Alpha)*l.Beta))
		if err != nil {
			return nil, err
		}
		if l.mixed, err = G.Add(bw, l.identityPart); err != nil {
			return nil, err
		}
	}
	px, err := l.propagate.Forward(a, x)
	if err != nil {
		return nil, err
	}
	support, err := G.Add(px, l.scaled)
	if err != nil {
		return nil, err
	}
	return ops.MatMul(support, l.mixed)
}

// Learnables returns the layer's parameter, W.
func (l *GCNIIConv) Learnables() G.Nodes { return G.Nodes{l.W} }

// GCNII is the deep part of the GCNII model: Layers GCNIIConv layers of one width, each given the
// stack's input as its initial representation X0 (Chen et al., ICML 2020):
//
//	H_0 = X0,   H_l = relu(GCNIIConv_l(dropout(H_{l-1}), X0)),   output H_L
//
// X0 and the output are (nodes, Dim). The paper's model puts a dense layer with ReLU before the
// stack (its output is X0) and dropout and a dense layer after it (models.GCNII). The paper's
// Cora setting is 64 layers of width 64, alpha 0.1, lambda 0.5, dropout 0.6.
type GCNII struct {
	Convs   []*GCNIIConv
	Dropout float64

	c *Context
}

// NewGCNII adds a stack of layers GCNII layers of width dim to the context's graph.
func NewGCNII(c *Context, name string, dim, layers int, alpha, lambda, dropout float64) (*GCNII, error) {
	if layers < 1 {
		return nil, fmt.Errorf("nn: GCNII stack %q with %d layers: want at least 1", name, layers)
	}
	if !(dropout >= 0 && dropout < 1) {
		return nil, fmt.Errorf("nn: GCNII stack %q with dropout %v: want 0 <= dropout < 1", name, dropout)
	}
	s := &GCNII{Dropout: dropout, c: c}
	for l := 1; l <= layers; l++ {
		conv, err := NewGCNIIConv(c, fmt.Sprintf("%s.conv%d", name, l), dim, l, alpha, lambda)
		if err != nil {
			return nil, err
		}
		if l > 1 {
			conv.propagate = s.Convs[0].propagate // one normalised graph for the stack
		}
		s.Convs = append(s.Convs, conv)
	}
	return s, nil
}

// Forward returns H_L for X0 = x, of shape (a.NumDst, Dim).
func (s *GCNII) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) {
	h := x
	for i, conv := range s.Convs {
		conv.Initial = x
		if i > 0 && conv.Alpha == s.Convs[0].Alpha {
			// Every layer adds the same alpha X0: build it once.
			conv.scaledFor, conv.scaled = x, s.Convs[0].scaled
		}
		in, err := s.c.Dropout(h, s.Dropout)
		if err != nil {
			return nil, err
		}
		out, err := conv.Forward(a, in)
		if err != nil {
			return nil, err
		}
		if h, err = ReLU(out); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Learnables returns the layers' weights.
func (s *GCNII) Learnables() G.Nodes {
	var ps G.Nodes
	for _, c := range s.Convs {
		ps = append(ps, c.W)
	}
	return ps
}

// checkWidth reports an x that is not a matrix of width cols.
func checkWidth(what string, x *G.Node, cols int) error {
	if s := x.Shape(); len(s) != 2 || s[1] != cols {
		return fmt.Errorf("nn: %s expects a (nodes, %d) matrix, got shape %v", what, cols, x.Shape())
	}
	return nil
}

// scalarLike returns a constant scalar node of dtype dt holding v.
func scalarLike(dt tensor.Dtype, v float64) *G.Node {
	if dt == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// castTo returns v as a value of dtype dt (float32 or float64).
func castTo(dt tensor.Dtype, v float64) any {
	if dt == tensor.Float32 {
		return float32(v)
	}
	return v
}

// ReadsGraph reports true.
func (l *GCNIIConv) ReadsGraph() bool { return true }

// ReadsGraph reports true.
func (s *GCNII) ReadsGraph() bool { return true }
