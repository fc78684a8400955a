// Package graph holds the sparse graph type every layer consumes: a CSR matrix sorted by
// destination, with optional per-edge weights, built from edge or adjacency lists with
// validation, plus the transforms GNNs need (self-loops, GCN normalisation, transpose for
// backward passes, balanced row partitions for parallel kernels) and a seeded random generator.
package graph
