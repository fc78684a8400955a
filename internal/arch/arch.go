// Package arch checks the architecture of a saved node classifier, the one rule that package
// models (which builds the model with Gorgonia) and package infer (which runs it without) share.
package arch

import "fmt"

// Check reports the first field of an architecture that cannot be built: model gcn, gat (with
// at least one head and one output head) or sage (aggregating with mean, max, sum or lstm), in,
// hidden and classes at least 1, 0 <= dropout < 1. Its messages start with "architecture", for
// the caller to prefix with its package.
func Check(model, aggr string, in, hidden, heads, classes, outHeads int, dropout float64) error {
	switch model {
	case "gcn":
	case "sage":
		switch aggr {
		case "mean", "max", "sum", "lstm":
		default:
			return fmt.Errorf("architecture sage with aggregator %q: want mean, max, sum or lstm", aggr)
		}
	case "gat":
		if heads < 1 || outHeads < 1 {
			return fmt.Errorf("architecture gat with %d heads and %d output heads: both must be at least 1", heads, outHeads)
		}
	default:
		return fmt.Errorf("architecture model %q: want gcn, gat or sage", model)
	}
	if in < 1 || hidden < 1 || classes < 1 {
		return fmt.Errorf("architecture %s with in %d, hidden %d, classes %d: all must be at least 1", model, in, hidden, classes)
	}
	if !(dropout >= 0 && dropout < 1) {
		return fmt.Errorf("architecture %s with dropout %v: want 0 <= dropout < 1", model, dropout)
	}
	return nil
}
