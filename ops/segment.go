package ops

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// SegmentSum returns the (numSegments, F) matrix out[s] = sum of the rows r of x with seg[r] = s:
// global add pooling over a batch of graphs, as torch_scatter.segment_sum_csr. x is (N, F); seg
// is a 1-D tensor.Int node of length N (one segment id per row, NewIndex makes one) whose
// values are non-decreasing and in [0, numSegments); its value may change between runs. A
// segment without rows gets a zero row. A seg whose length is not N is an error when the graph
// is built; an unsorted seg or an id out of range is an error of the run. Differentiable in x
// (dx[r] = dout[seg[r]]), not in seg.
func SegmentSum(x, seg *G.Node, numSegments int) (*G.Node, error) {
	return segment("SegmentSum", x, seg, numSegments, reduceSum)
}

// SegmentMean is SegmentSum divided by the number of rows of each segment (global mean
// pooling); an empty segment gets a zero row.
func SegmentMean(x, seg *G.Node, numSegments int) (*G.Node, error) {
	return segment("SegmentMean", x, seg, numSegments, reduceMean)
}

// SegmentMax returns out[s][f] = max of x[r][f] over the rows r of segment s (global max
// pooling); an empty segment gets a zero row. The gradient goes to the first row attaining the
// maximum (see ScatterMax for the tie rule).
func SegmentMax(x, seg *G.Node, numSegments int) (*G.Node, error) {
	return segment("SegmentMax", x, seg, numSegments, reduceMax)
}

func segment(op string, x, seg *G.Node, numSegments int, r reduction) (*G.Node, error) {
	s, err := checkFeatureNode(op, "x", x, -1)
	if err != nil {
		return nil, err
	}
	n, err := checkIndexNode(op, "segment vector", seg)
	if err != nil {
		return nil, err
	}
	if n != s[0] {
		return nil, fmt.Errorf("ops: %s: segment vector has %d entries but x has %d rows; give one segment id per row", op, n, s[0])
	}
	if numSegments < 0 {
		return nil, fmt.Errorf("ops: %s: %d segments; want numSegments >= 0", op, numSegments)
	}
	return G.ApplyOp(newScatter(indexMap("segment", numSegments, n, true), r), x, seg)
}
