package models

import "fmt"

// Published returns the architecture and training setting of a model's paper for a citation
// graph with in features and classes classes:
//
//	gcn: 16 hidden, dropout 0.5, Adam lr 0.01, weight decay 5e-4 (first layer), 200 epochs,
//	     Kipf & Welling's early stopping with window 10
//	gat: 8 heads x 8 hidden, 1 output head, dropout 0.6, Adam lr 0.005, weight decay 5e-4,
//	     up to 1000 epochs with patience 100
func Published(name string, in, classes int) (Architecture, TrainConfig, error) {
	switch name {
	case "gcn":
		return Architecture{Model: "gcn", In: in, Hidden: 16, Classes: classes, Dropout: 0.5},
			TrainConfig{Epochs: 200, LearningRate: 0.01, WeightDecay: 5e-4, Window: 10}, nil
	case "gat":
		return Architecture{Model: "gat", In: in, Hidden: 8, Heads: 8, Classes: classes, OutHeads: 1, Dropout: 0.6},
			TrainConfig{Epochs: 1000, LearningRate: 0.005, WeightDecay: 5e-4, Patience: 100}, nil
	}
	return Architecture{}, TrainConfig{}, fmt.Errorf("models: no published setting for %q (have gcn, gat)", name)
}
