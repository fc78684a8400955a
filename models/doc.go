// Package models assembles nn layers into the published architectures (GCN, and as they land
// GAT and GraphSAGE) and trains them for semi-supervised node classification with Gorgonia's
// Adam solver, early stopping on validation loss, and seeded, bit-reproducible runs.
package models
