package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/gnnlab/gognn/graph"
)

// MLPConfig sets up a multi-layer perceptron.
type MLPConfig struct {
	// Dims are the widths from input to output, at least two: {in, hidden..., out}.
	Dims []int
	// Act is the activation after each hidden layer; nil is ReLU.
	Act Func
	// Dropout is applied after each hidden activation, in training mode.
	Dropout float64
	// BatchNorm inserts a BatchNorm after each hidden Linear, before the activation.
	BatchNorm bool
}

// MLP is a multi-layer perceptron applied to every row, as PyTorch Geometric's MLP with
// plain_last: Linear, [BatchNorm], activation, [dropout] for each hidden layer, then a plain
// Linear to the output. It is the update of GIN and GINE. Linear layers have biases and
// Glorot weights.
type MLP struct {
	Cfg    MLPConfig
	Lins   []*Linear
	Norms  []*BatchNorm // with BatchNorm, one per hidden layer
	Layers Sequential
}

var _ FeaturesLayer = (*MLP)(nil)

// NewMLP adds an MLP's parameters to the context's graph; layer k's are named name.k.
func NewMLP(c *Context, name string, cfg MLPConfig) (*MLP, error) {
	if len(cfg.Dims) < 2 {
		return nil, fmt.Errorf("nn: MLP %q with widths %v: want at least input and output", name, cfg.Dims)
	}
	if cfg.Act == nil {
		cfg.Act = ReLU
	}
	drop, err := NewDropout(c, cfg.Dropout)
	if err != nil {
		return nil, fmt.Errorf("nn: MLP %q: %w", name, err)
	}
	m := &MLP{Cfg: cfg}
	last := len(cfg.Dims) - 2
	for k := 0; k <= last; k++ {
		lin, err := NewLinear(c, fmt.Sprintf("%s.%d", name, k), cfg.Dims[k], cfg.Dims[k+1], true)
		if err != nil {
			return nil, err
		}
		m.Lins = append(m.Lins, lin)
		m.Layers = append(m.Layers, lin)
		if k == last {
			break
		}
		if cfg.BatchNorm {
			bn, err := NewBatchNorm(c, fmt.Sprintf("%s.norm%d", name, k), cfg.Dims[k+1])
			if err != nil {
				return nil, err
			}
			m.Norms = append(m.Norms, bn)
			m.Layers = append(m.Layers, bn)
		}
		m.Layers = append(m.Layers, cfg.Act)
		if cfg.Dropout > 0 {
			m.Layers = append(m.Layers, drop)
		}
	}
	return m, nil
}

// Forward applies the MLP to every row of x; the graph is ignored.
func (m *MLP) Forward(a *graph.CSR, x *G.Node) (*G.Node, error) { return m.Layers.Forward(a, x) }

// ForwardFeatures applies the MLP to dense or sparse features.
func (m *MLP) ForwardFeatures(a *graph.CSR, x Features) (*G.Node, error) {
	return m.Layers.ForwardFeatures(a, x)
}

// Learnables returns the parameters of every layer.
func (m *MLP) Learnables() G.Nodes { return m.Layers.Learnables() }
