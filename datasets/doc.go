// Package datasets loads the benchmark graphs the project's experiments use: the Planetoid
// citation graphs Cora, CiteSeer and PubMed in the public split of Yang et al. (2016)
// (LoadPlanetoid), the graphs of Shchur et al.'s benchmark in their .npz files, Amazon, Coauthor
// and Cora-full (LoadNPZ, NPZNames; RandomSplit draws their per-class split, and
// NPZ.LargestComponent keeps the largest connected component), and the TU graph classification
// sets such as MUTAG and PROTEINS (LoadTU). All are read without Python: pickles, .npy/.npz
// arrays and the TU text files are decoded in Go.
//
// # Where the data lives
//
// DataDir resolves the data directory: an experiment's -data flag, else $GNN_DATA, else
// gognn/ in the user cache directory. The Planetoid files are in its planetoid/ subdirectory
// (GNN_DATA=/work/shared/datasets reads /work/shared/datasets/planetoid/ind.cora.x), the .npz
// files in npz/ and the TU sets in tu/<name>/. A missing
// file is downloaded from the authors' repository (DefaultBaseURL) through a temporary file that
// is renamed into place only when complete and, for Cora, only when its SHA-256 matches; a
// directory that already holds all the files is only read, so it may be read-only.
//
// # The Planetoid format
//
// Each data set is eight files, ind.<name>.<suffix>, written by Python 2 (pickle protocol 2):
//
//	x, tx, allx   scipy.sparse.csr.csr_matrix features (float32 in the Cora files): the training nodes (len(y) x F),
//	              the test nodes (1000 x F) and all non-test nodes (na x F)
//	y, ty, ally   numpy 2-D one-hot label arrays matching x, tx and allx (int32 in the Cora files)
//	graph         collections.defaultdict(list): node -> list of neighbours
//	test.index    text, one test node index per line, not sorted
//
// The pickles are decoded in Go without running Python: only the six globals these files use
// (numpy.core.multiarray._reconstruct, numpy.ndarray, numpy.dtype, scipy.sparse.csr.csr_matrix,
// collections.defaultdict, __builtin__.list) are accepted, and a file naming any other, such as
// os.system, is refused with an error naming it. numpy arrays of float32, float64, int32, int64,
// uint8 and bool in either byte order and either memory order are decoded, with their sizes
// checked against their shapes.
//
// # Shapes
//
// LoadPlanetoid returns a Planetoid: Features, a NumNodes x NumFeatures SparseMatrix (CSR,
// float32; Dense and DenseF64 give row-major copies); Labels, one class per node (-1 for a node
// without a label); Graph, an undirected graph.CSR without self-loops or duplicate edges; and the
// public split's Train, Val and Test node indices. Cora loads to 2708 nodes, 1433 features,
// 7 classes, 10556 stored edges (5278 undirected) and a 140/500/1000 split, as in PyTorch
// Geometric.
package datasets
