// Package graph holds the sparse graph type every layer consumes: a CSR matrix sorted by
// destination, with optional per-edge weights and an optional (E, D) matrix of edge attributes
// kept aligned with the edge order through every transform, built from edge or adjacency lists
// with validation, plus the transforms GNNs need (self-loops with a fill value, GCN
// normalisation, symmetrisation, transpose for backward passes, sampling into blocks, induced
// subgraphs, coalescing, balanced row partitions for parallel kernels) and a seeded random
// generator. For mini-batches of whole graphs (graph classification), NewBatch joins graphs
// into one disjoint Batch with each node's graph in Segment, and Loader deals the items of a
// data set into shuffled mini-batches.
package graph
