package nn

import (
	"fmt"

	"github.com/gnnlab/gognn/graph"
)

// DropEdge returns a copy of a without each edge independently with probability p, drawn from
// the context's random source, in training mode; a itself in evaluation mode or for p = 0
// (Rong et al., "DropEdge", ICLR 2020; PyTorch Geometric's dropout_edge). The kept edges keep
// their order, weights and attributes. A graph is a fixed input of the expression graph, so a
// new subgraph means a new model graph: call DropEdge each time the model is built for a
// training run (a BuildFunc of models.TrainSampled is called per mini-batch; for full-graph
// training build in a context from Next per epoch). Layers that normalise the graph (GCNConv)
// normalise the dropped graph, as DropEdge does.
func (c *Context) DropEdge(a *graph.CSR, p float64) (*graph.CSR, error) {
	if !(p >= 0 && p < 1) {
		return nil, fmt.Errorf("nn: DropEdge probability %v: want 0 <= p < 1", p)
	}
	if p == 0 || !c.Training() {
		return a, nil
	}
	rng := c.Rand()
	attr, dim := a.EdgeAttr()
	out := &graph.CSR{NumSrc: a.NumSrc, NumDst: a.NumDst, RowPtr: make([]int, a.NumDst+1)}
	var keptAttr []float32
	for i := 0; i < a.NumDst; i++ {
		for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
			if rng.Float64() < p {
				continue
			}
			out.ColIdx = append(out.ColIdx, a.ColIdx[e])
			if a.Weights != nil {
				out.Weights = append(out.Weights, a.Weights[e])
			}
			if dim > 0 {
				keptAttr = append(keptAttr, attr[e*dim:(e+1)*dim]...)
			}
		}
		out.RowPtr[i+1] = len(out.ColIdx)
	}
	if out.ColIdx == nil {
		out.ColIdx = []int32{}
	}
	if dim == 0 {
		return out, nil
	}
	if keptAttr == nil {
		keptAttr = []float32{}
	}
	return out.WithEdgeAttr(keptAttr, dim)
}
