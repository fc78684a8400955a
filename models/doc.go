// Package models assembles nn layers into published node classifiers — GCN (NewGCN), GAT
// (NewGAT), GraphSAGE (NewSAGE, full-graph or on sampled blocks) and deep residual GCN stacks
// (NewDeepGCN) — and trains them for semi-supervised node classification with Gorgonia's Adam
// solver: full-batch (Train) with early stopping on validation loss, or on sampled mini-batches
// (TrainSampled). Runs are seeded and bit-reproducible. Published returns each paper's setting.
//
// Trained models are stored as model files (package modelfile): Save and SaveTo write the
// Architecture and the parameters, Load and LoadFrom read them back, Build rebuilds the model an
// Architecture describes, and Restore copies the saved values into its parameters.
package models
