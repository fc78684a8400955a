package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/ops"
)

// CrossEntropy returns the mean negative log-likelihood of labels over the given nodes, and the
// log-softmax of logits it is computed from (shape (n, classes)):
//
//	loss = -1/|nodes| sum_{i in nodes} log softmax(logits_i)[labels[i]]
//
// Only the listed nodes count (the training mask of semi-supervised node classification).
func (c *Context) CrossEntropy(logits *G.Node, labels []int, nodes []int) (loss, logProbs *G.Node, err error) {
	s := logits.Shape()
	if len(s) != 2 {
		return nil, nil, fmt.Errorf("nn: cross-entropy needs (nodes, classes) logits, got shape %v", s)
	}
	n, classes := s[0], s[1]
	if len(labels) != n {
		return nil, nil, fmt.Errorf("nn: cross-entropy: %d labels for %d nodes", len(labels), n)
	}
	if len(nodes) == 0 {
		return nil, nil, fmt.Errorf("nn: cross-entropy over no nodes")
	}
	target := tensor.New(tensor.WithShape(n, classes), tensor.Of(c.Dtype))
	w := 1 / float64(len(nodes))
	for _, i := range nodes {
		if i < 0 || i >= n {
			return nil, nil, fmt.Errorf("nn: cross-entropy: node %d out of range [0, %d)", i, n)
		}
		y := labels[i]
		if y < 0 || y >= classes {
			return nil, nil, fmt.Errorf("nn: cross-entropy: node %d has label %d, want 0 <= label < %d", i, y, classes)
		}
		if c.Dtype == tensor.Float32 {
			target.Float32s()[i*classes+y] += float32(w)
		} else {
			target.Float64s()[i*classes+y] += w
		}
	}
	if logProbs, err = ops.LogSoftmax(logits); err != nil {
		return nil, nil, err
	}
	sum, err := G.Sum(G.Must(G.HadamardProd(logProbs, c.Constant("target", target))))
	if err != nil {
		return nil, nil, err
	}
	loss, err = G.Neg(sum)
	return loss, logProbs, err
}

// Rows reads a (n, classes) value as float64 rows.
func Rows(v G.Value) ([][]float64, error) {
	t, ok := v.(*tensor.Dense)
	if !ok || t.Dims() != 2 {
		return nil, fmt.Errorf("nn: want a matrix value, got %T", v)
	}
	n, k := t.Shape()[0], t.Shape()[1]
	flat := make([]float64, n*k)
	switch d := t.Data().(type) {
	case []float32:
		for i, x := range d {
			flat[i] = float64(x)
		}
	case []float64:
		copy(flat, d)
	default:
		return nil, fmt.Errorf("nn: unsupported dtype %v", t.Dtype())
	}
	out := make([][]float64, n)
	for i := range out {
		out[i] = flat[i*k : (i+1)*k : (i+1)*k]
	}
	return out, nil
}

// NLL is the mean negative log-likelihood of labels over nodes, from log-probability rows.
func NLL(logProbs [][]float64, labels []int, nodes []int) float64 {
	if len(nodes) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, i := range nodes {
		s -= logProbs[i][labels[i]]
	}
	return s / float64(len(nodes))
}

// Accuracy is the fraction of nodes whose highest-scoring class is their label.
func Accuracy(scores [][]float64, labels []int, nodes []int) float64 {
	if len(nodes) == 0 {
		return math.NaN()
	}
	hit := 0
	for _, i := range nodes {
		best := 0
		for j, v := range scores[i] {
			if v > scores[i][best] {
				best = j
			}
		}
		if best == labels[i] {
			hit++
		}
	}
	return float64(hit) / float64(len(nodes))
}

// BinaryCrossEntropy returns the mean binary cross-entropy of logits z (any shape; the
// sigmoid is applied inside) against targets y in [0, 1], one per element in row-major order,
// as torch's binary_cross_entropy_with_logits:
//
//	loss = mean_k  max(z_k, 0) - z_k y_k + log(1 + exp(-|z_k|))
//
// which equals -y log sigmoid(z) - (1-y) log(1 - sigmoid(z)) without overflow for large |z|.
// Link prediction scores positive and negative pairs with it.
func (c *Context) BinaryCrossEntropy(logits *G.Node, targets []float64) (*G.Node, error) {
	n := logits.Shape().TotalSize()
	if len(targets) != n {
		return nil, fmt.Errorf("nn: binary cross-entropy: %d targets for %d logits", len(targets), n)
	}
	if n == 0 {
		return nil, fmt.Errorf("nn: binary cross-entropy over no logits")
	}
	for i, y := range targets {
		if !(y >= 0 && y <= 1) {
			return nil, fmt.Errorf("nn: binary cross-entropy: target %d is %v, want 0 <= y <= 1", i, y)
		}
	}
	y := c.Constant("bce_target", newFrom(c.Dtype, logits.Shape().Clone(), append([]float64(nil), targets...)))
	pos, err := ops.ReLU(logits)
	if err != nil {
		return nil, err
	}
	zy, err := G.HadamardProd(logits, y)
	if err != nil {
		return nil, err
	}
	abs, err := G.Abs(logits)
	if err != nil {
		return nil, err
	}
	softplus, err := G.Log1p(G.Must(G.Exp(G.Must(G.Neg(abs)))))
	if err != nil {
		return nil, err
	}
	l, err := G.Add(G.Must(G.Sub(pos, zy)), softplus)
	if err != nil {
		return nil, err
	}
	return G.Mean(l)
}
