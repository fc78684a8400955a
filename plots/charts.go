package plots

import (
	"fmt"
	"slices"
)

// This file holds the figures the project publishes, as Panels with their axes labelled (with
// units) and their legends placed; change any field of the returned Panel (a title, a unit)
// before drawing it.

// Run is one training run's per-epoch curves, as models.History records them.
type Run struct {
	Name                       string
	TrainLoss, ValLoss, ValAcc []float64
}

// TrainingCurves returns two panels of one or more runs against the epoch: the training (solid)
// and validation (dashed) cross-entropy, and the validation accuracy; each run has one colour.
func TrainingCurves(runs ...Run) []Panel {
	loss := Panel{Title: "loss", XLabel: "epoch", YLabel: "cross-entropy (nats)"}
	acc := Panel{Title: "validation accuracy", XLabel: "epoch", YLabel: "accuracy (fraction of nodes)", LegendBottom: true}
	for k, r := range runs {
		name := func(what string) string {
			if r.Name == "" {
				return what
			}
			return r.Name + " " + what
		}
		loss.Series = append(loss.Series,
			Series{Name: name("train"), X: Epochs(len(r.TrainLoss)), Y: r.TrainLoss, Colour: k + 1},
			Series{Name: name("validation"), X: Epochs(len(r.ValLoss)), Y: r.ValLoss, Colour: k + 1, Dashed: true})
		acc.Series = append(acc.Series, Series{Name: name("validation"), X: Epochs(len(r.ValAcc)), Y: r.ValAcc, Colour: k + 1, Dashed: true})
	}
	return []Panel{loss, acc}
}

// AccuracyVsDepth returns test accuracy against the number of layers, one series per model
// family, with a tick at every depth that a series holds.
func AccuracyVsDepth(series ...Series) Panel {
	var ticks []float64
	for _, s := range series {
		ticks = append(ticks, s.X...)
	}
	slices.Sort(ticks)
	return Panel{Title: "accuracy against depth", XLabel: "layers", YLabel: "test accuracy (fraction of nodes)",
		Series: series, XTicks: slices.Compact(ticks), LegendBottom: true, LegendLeft: true}
}

// LatencyVsSize returns latency in milliseconds against the number of nodes N, on log-log
// axes, where a straight line of slope 1 is linear scaling.
func LatencyVsSize(series ...Series) Panel {
	return Panel{Title: "latency against graph size", XLabel: "nodes N", YLabel: "latency (ms)", LogX: true, LogY: true,
		Series: series, LegendLeft: true}
}

// RecallVsQPS returns throughput in queries per second (log axis) against recall@k: the
// trade-off an ANN index's search-time parameter moves along; up and right is better.
func RecallVsQPS(k int, series ...Series) Panel {
	return Panel{Title: "throughput against recall", XLabel: fmt.Sprintf("recall@%d (fraction)", k), YLabel: "queries per second (log scale)",
		LogY: true, Series: series, LegendBottom: true, LegendLeft: true}
}

// PrecisionVsFeedback returns precision@k against the number of feedback queries given so far,
// with the legend top left, above a baseline and left of a rising curve.
func PrecisionVsFeedback(k int, series ...Series) Panel {
	return Panel{Title: "search quality with use", XLabel: "feedback queries", YLabel: fmt.Sprintf("precision@%d (fraction relevant)", k),
		Series: series, LegendLeft: true}
}

// Flat returns a horizontal line at y over xs, for a reference level (a baseline that does
// not change).
func Flat(name string, xs []float64, y float64) Series {
	ys := make([]float64, len(xs))
	for i := range ys {
		ys[i] = y
	}
	return Series{Name: name, X: xs, Y: ys}
}

// Attention returns a heat map of one node's attention over its neighbours (rows, labelled by
// neighbours) and heads (columns), weights[i][h] the coefficient of neighbour i in head h, as
// nn.GATConv.NodeAttention returns them. Each cell is labelled with its coefficient; the colour
// scale spans the smallest to the largest, since attention that is close to uniform (each head's
// column sums to 1) would look flat on a 0 to 1 scale. Set Heatmap.Min and Max to fix the scale.
func Attention(node int, neighbours []string, weights [][]float64) Panel {
	heads := 0
	if len(weights) > 0 {
		heads = len(weights[0])
	}
	cols := make([]string, heads)
	for h := range cols {
		cols[h] = fmt.Sprint(h + 1)
	}
	return Panel{Title: fmt.Sprintf("attention of node %d over its neighbours (coefficient)", node), XLabel: "head", YLabel: "neighbour",
		Heatmap: &Heatmap{Values: weights, Rows: neighbours, Cols: cols}}
}
