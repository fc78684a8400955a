package ops

import (
	"math"
	"math/rand/v2"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
)

// The naive oracles of the gather/scatter ops: plain loops over items in float64.

// refGather returns out[k] = x[rows[k]] (divided by the number of items of that node when mean).
func refGather(rows []int, x []float64, width int, mean bool, nodes int) []float64 {
	count := make([]int, nodes)
	for _, r := range rows {
		count[r]++
	}
	out := make([]float64, len(rows)*width)
	for k, r := range rows {
		for f := 0; f < width; f++ {
			v := x[r*width+f]
			if mean {
				v /= float64(count[r])
			}
			out[k*width+f] = v
		}
	}
	return out
}

// refScatter reduces item rows onto nodes: sum, mean or max; a node without items gets zeros.
func refScatter(kind string, rows []int, nodes int, x []float64, width int) []float64 {
	out := make([]float64, nodes*width)
	count := make([]int, nodes)
	for k, r := range rows {
		for f := 0; f < width; f++ {
			v := x[k*width+f]
			o := &out[r*width+f]
			switch {
			case kind != "max":
				*o += v
			case count[r] == 0:
				*o = v
			default:
				*o = math.Max(*o, v)
			}
		}
		count[r]++
	}
	if kind == "mean" {
		for i, c := range count {
			for f := 0; f < width && c > 0; f++ {
				out[i*width+f] /= float64(c)
			}
		}
	}
	return out
}

// edgeLists returns the sources and destinations of a's edges in a's edge order.
func edgeLists(a *graph.CSR) (src, dst []int) {
	for i := 0; i < a.NumDst; i++ {
		for e := a.RowPtr[i]; e < a.RowPtr[i+1]; e++ {
			src = append(src, int(a.ColIdx[e]))
			dst = append(dst, i)
		}
	}
	return src, dst
}

// distinctDense returns a rows x width tensor of distinct values on a grid wider than the
// finite-difference step, so a perturbation never changes which item is a maximum.
func distinctDense(rng *rand.Rand, dt tensor.Dtype, rows, width int) *tensor.Dense {
	t := randDense(rng, dt, rows, width)
	n := rows * width
	for i, p := range rng.Perm(n) {
		set(t, i, 0.05*float64(p-n/2))
	}
	return t
}
