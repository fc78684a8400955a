package search

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/nn"
)

// model is the GNN as Gorgonia layers: a GraphSAGE layer over the HNSW neighbours (with the
// root weight), a second one without root over the feedback neighbours, and the output
// projection of the residual. Built in a fresh nn.Context for every training step; the
// parameters live in the context's store.
type model struct {
	hnsw, fb *nn.SAGEConv
	out      *nn.Linear
}

// Parameter names, in the order buildModel creates them (and c.Params lists them).
var paramNames = []string{
	"sage_hnsw.lin_l.weight", "sage_hnsw.lin_l.bias", "sage_hnsw.lin_r.weight",
	"sage_fb.lin_l.weight", "sage_fb.lin_l.bias",
	"out.weight",
}

func buildModel(c *nn.Context, d, h int) (*model, error) {
	var m model
	var err error
	if m.hnsw, err = nn.NewSAGEConv(c, "sage_hnsw", nn.SAGEConfig{In: d, Out: h, Aggr: nn.MeanAggr}); err != nil {
		return nil, err
	}
	if m.fb, err = nn.NewSAGEConv(c, "sage_fb", nn.SAGEConfig{In: d, Out: h, Aggr: nn.MeanAggr, NoRoot: true}); err != nil {
		return nil, err
	}
	if m.out, err = nn.NewLinear(c, "out", h, d, false); err != nil {
		return nil, err
	}
	ps := c.Params()
	if len(ps) != len(paramNames) {
		return nil, fmt.Errorf("search: model has %d parameters, want %d", len(ps), len(paramNames))
	}
	for i, p := range ps {
		if p.Name() != paramNames[i] {
			return nil, fmt.Errorf("search: parameter %d is %s, want %s", i, p.Name(), paramNames[i])
		}
	}
	return &m, nil
}

// forward returns the unit-norm embeddings of the aH.NumDst destinations of a block: x holds the
// features of its aH.NumSrc sources (destinations first), xDst the destinations' features dense
// for the residual, aH and aF the HNSW and feedback edges. It is weights.embed as a graph.
func (m *model) forward(c *nn.Context, aH, aF *graph.CSR, x nn.Features, xDst *G.Node) (*G.Node, error) {
	hh, err := m.hnsw.ForwardFeatures(aH, x)
	if err != nil {
		return nil, err
	}
	hf, err := m.fb.ForwardFeatures(aF, x)
	if err != nil {
		return nil, err
	}
	h, err := G.Add(hh, hf)
	if err != nil {
		return nil, err
	}
	if h, err = G.Rectify(h); err != nil {
		return nil, err
	}
	r, err := m.out.Forward(nil, h)
	if err != nil {
		return nil, err
	}
	out, err := G.Add(xDst, r)
	if err != nil {
		return nil, err
	}
	return nn.L2Normalize(out)
}

// param is one trained tensor with its Adam moments.
type param struct {
	Name  string
	Shape []int
	Data  []float32 // the nn.Context store's tensor, updated in place
	M, V  []float32
}

// newParams builds the model once in base, sets the output projection to zero (so the initial
// embedding is the normalised input and re-ranking starts as plain cosine similarity) and
// returns the parameters in creation order.
func newParams(base *nn.Context, d, h int) ([]*param, error) {
	c := base.Next()
	if _, err := buildModel(c, d, h); err != nil {
		return nil, err
	}
	var ps []*param
	for _, n := range c.Params() {
		t, ok := n.Value().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("search: parameter %s has no dense value", n.Name())
		}
		data := t.Float32s()
		p := &param{Name: n.Name(), Shape: append([]int(nil), n.Shape()...), Data: data,
			M: make([]float32, len(data)), V: make([]float32, len(data))}
		if p.Name == "out.weight" {
			clear(p.Data)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// snapshot copies the current parameters into an immutable weights value for serving.
func snapshot(ps []*param, d, h int) *weights {
	cp := func(i int) []float32 { return append([]float32(nil), ps[i].Data...) }
	return &weights{D: d, H: h, HNSW: cp(0), HNSWB: cp(1), Root: cp(2), FB: cp(3), FBB: cp(4), Out: cp(5)}
}

// Adam's constants (Kingma & Ba 2015), as in torch.optim.Adam.
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

// adamStep applies one Adam update with bias correction at step t (1-based) to p, given its
// gradient g. Adam is implemented here rather than taken from Gorgonia so that its moments can
// be saved with the index and training resumes exactly after Load.
func adamStep(p *param, g []float32, lr float64, t int64) {
	c1 := 1 - math.Pow(adamBeta1, float64(t))
	c2 := 1 - math.Pow(adamBeta2, float64(t))
	step := lr * math.Sqrt(c2) / c1
	for i, gi := range g {
		gf := float64(gi)
		m := adamBeta1*float64(p.M[i]) + (1-adamBeta1)*gf
		v := adamBeta2*float64(p.V[i]) + (1-adamBeta2)*gf*gf
		p.M[i], p.V[i] = float32(m), float32(v)
		p.Data[i] -= float32(step * m / (math.Sqrt(v) + adamEps*math.Sqrt(c2)))
	}
}
