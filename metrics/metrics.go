package metrics

import (
	"fmt"
	"math"
	"sort"
)

// check validates a scored binary set and counts its positives.
func check(scores []float64, labels []bool) (pos int, err error) {
	if len(scores) != len(labels) {
		return 0, fmt.Errorf("metrics: %d scores for %d labels", len(scores), len(labels))
	}
	for i, s := range scores {
		if math.IsNaN(s) {
			return 0, fmt.Errorf("metrics: score %d is NaN", i)
		}
		if labels[i] {
			pos++
		}
	}
	if pos == 0 || pos == len(labels) {
		return 0, fmt.Errorf("metrics: %d positives among %d items: need at least one positive and one negative", pos, len(labels))
	}
	return pos, nil
}

// order returns the item indices by decreasing score.
func order(scores []float64) []int {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] > scores[idx[b]] })
	return idx
}

// AUC returns the area under the ROC curve: the probability that a random positive scores
// above a random negative, a tie counting one half (the trapezoidal area over the distinct
// thresholds, as sklearn.metrics.roc_auc_score).
func AUC(scores []float64, labels []bool) (float64, error) {
	pos, err := check(scores, labels)
	if err != nil {
		return 0, err
	}
	neg := len(labels) - pos
	idx := order(scores)
	var area, tp float64 // area in units of positive x negative pairs
	for i := 0; i < len(idx); {
		// One threshold: every item of this score.
		var dtp, dfp float64
		j := i
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			if labels[idx[j]] {
				dtp++
			} else {
				dfp++
			}
		}
		area += dfp * (tp + dtp/2)
		tp += dtp
		i = j
	}
	return area / (float64(pos) * float64(neg)), nil
}

// AP returns the average precision, sum over the distinct score thresholds t (descending) of
// (R_t - R_prev) * P_t, where P_t and R_t are the precision and recall of predicting positive
// every item scoring >= t (sklearn.metrics.average_precision_score; no interpolation).
func AP(scores []float64, labels []bool) (float64, error) {
	pos, err := check(scores, labels)
	if err != nil {
		return 0, err
	}
	idx := order(scores)
	var ap, tp, n float64
	for i := 0; i < len(idx); {
		j := i
		var dtp float64
		for ; j < len(idx) && scores[idx[j]] == scores[idx[i]]; j++ {
			if labels[idx[j]] {
				dtp++
			}
		}
		n += float64(j - i)
		tp += dtp
		ap += dtp / float64(pos) * (tp / n)
		i = j
	}
	return ap, nil
}

// HitsAtK returns the fraction of positive scores strictly above the k-th highest negative
// score, as the OGB link-prediction evaluator (ogbl-collab, ogbl-ddi); with fewer than k
// negatives every positive is a hit.
func HitsAtK(pos, neg []float64, k int) (float64, error) {
	if k <= 0 || len(pos) == 0 {
		return 0, fmt.Errorf("metrics: Hits@%d over %d positives: want k > 0 and a positive", k, len(pos))
	}
	if len(neg) < k {
		return 1, nil
	}
	sorted := append([]float64(nil), neg...)
	sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
	kth := sorted[k-1]
	hits := 0
	for _, p := range pos {
		if p > kth {
			hits++
		}
	}
	return float64(hits) / float64(len(pos)), nil
}

// MRR returns the mean reciprocal rank of each positive among its own negatives: neg[i] holds
// the negatives of positive i, and its rank is 1 + (#negatives above it + #negatives tied with
// it / 2), the mean of the optimistic and pessimistic ranks, as the OGB evaluator (ogbl-citation2).
func MRR(pos []float64, neg [][]float64) (float64, error) {
	if len(pos) == 0 || len(pos) != len(neg) {
		return 0, fmt.Errorf("metrics: MRR of %d positives with %d negative lists: want as many, at least one", len(pos), len(neg))
	}
	var sum float64
	for i, p := range pos {
		above, ties := 0, 0
		for _, q := range neg[i] {
			switch {
			case q > p:
				above++
			case q == p:
				ties++
			}
		}
		sum += 1 / (1 + float64(above) + float64(ties)/2)
	}
	return sum / float64(len(pos)), nil
}

// Accuracy returns the fraction of items whose predicted class equals the label.
func Accuracy(pred, labels []int) (float64, error) {
	if len(pred) != len(labels) || len(pred) == 0 {
		return 0, fmt.Errorf("metrics: accuracy of %d predictions for %d labels: want as many, at least one", len(pred), len(labels))
	}
	ok := 0
	for i := range pred {
		if pred[i] == labels[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(pred)), nil
}

// Argmax returns the index of the largest value of each row (the first on ties): predicted
// classes from scores or log-probabilities.
func Argmax(rows [][]float64) []int {
	out := make([]int, len(rows))
	for i, r := range rows {
		best := 0
		for j, v := range r {
			if v > r[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}
