package metrics_test

import (
	"fmt"

	"github.com/gnnlab/gognn/metrics"
)

// Score link predictions: scores of true edges (positives) against scores of sampled non-edges.
func Example() {
	scores := []float64{0.9, 0.8, 0.35, 0.4, 0.1}
	labels := []bool{true, true, true, false, false}
	auc, _ := metrics.AUC(scores, labels)
	ap, _ := metrics.AP(scores, labels)
	hits, _ := metrics.HitsAtK([]float64{0.9, 0.8, 0.35}, []float64{0.4, 0.1}, 1)
	acc, _ := metrics.Accuracy(metrics.Argmax([][]float64{{0.1, 0.9}, {0.7, 0.3}}), []int{1, 1})
	fmt.Printf("AUC %.3f  AP %.3f  Hits@1 %.3f  accuracy %.1f\n", auc, ap, hits, acc)
	// Output:
	// AUC 0.833  AP 0.917  Hits@1 0.667  accuracy 0.5
}
