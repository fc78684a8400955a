// Package hnsw is an approximate nearest-neighbour index over float32 vectors: the Hierarchical
// Navigable Small World graph of Malkov & Yashunin ("Efficient and robust approximate nearest
// neighbor search using Hierarchical Navigable Small World graphs", IEEE TPAMI 2018,
// arXiv:1603.09320). Its layers are also graphs a GNN can run on: Layer(l) returns layer l as a
// graph.CSR on the index's ids.
//
// # The structure
//
// Every vector is a node with a random top layer l = floor(-ln(U) * mL), U ~ Uniform(0, 1],
// mL = 1/ln(M), so a node reaches layer l with probability M^-l and the expected number of
// layers is about log_M(N). On each layer a node keeps a list of neighbours: at most M on layers
// above 0 and 2*M on layer 0. The entry point is a node on the top layer.
//
// Add (Algorithm 1) walks greedily from the entry point down to the new node's layer, then on each
// lower layer runs a best-first search with efConstruction candidates (Algorithm 2), keeps M of
// them with the neighbour-selection heuristic (Algorithm 4: a candidate is kept only if it is
// closer to the new node than to every neighbour kept before it, which keeps links spread in all
// directions and connects clusters), and links them back, pruning a full list with the same
// heuristic. Search (Algorithm 5) walks greedily to layer 1 and searches layer 0 with ef
// candidates; recall grows with ef, and so does the cost.
//
// # Parameters
//
//	M               neighbours per node (16 default; 2*M on layer 0). Larger M: better recall on
//	                hard data, more memory (4*(2M+1) bytes per node on layer 0) and slower inserts.
//	EfConstruction  candidates per insert (200 default). Larger: better graph, slower build.
//	EfSearch        default ef of Search (64). Per call: Search(q, k, ef).
//	Metric          L2 (squared), Cosine (1 - cos, vectors normalised on insert), InnerProduct (-dot).
//	Seed            seeds the levels: same seed + same insertion order = identical index.
//
// # Deletion
//
// Delete tombstones a node (its id stays taken; it is never returned again) and repairs the graph:
// every node that linked to it rebuilds its list from its other neighbours and the deleted node's
// live neighbours with the heuristic, keeping its degree, and the tombstone loses all its edges.
// Without a repair, recall erodes as deleted nodes accumulate (nmslib/hnswlib#4, coder/hnsw#1);
// with it, a 10k x 32 index with 30% of its nodes deleted searched as well as a fresh build on
// the remaining vectors (recall@10 0.91 / 0.97 / 0.99 at ef = 10 / 20 / 40 for both).
//
// Update replaces a node's vector in place: the node is unlinked as Delete unlinks it and
// inserted again at its level, keeping its id; on a deleted id it revives the node, which is how
// a wrapper reuses ids. A wrapper that mirrors the graph (package search) takes ownership with
// Own: the Index then refuses Add, Delete and Update, which go through the returned Writer, and
// the Writer reports which layer-0 lists changed.
//
// # Concurrency and persistence
//
// Searches run concurrently with each other and with Add and Delete, which are serialised (one
// writer at a time); see Index. Save writes a versioned, CRC-32C checksummed file atomically and
// Load validates it completely.
//
// # Distances and reproducibility
//
// Every metric runs on the module's SIMD kernels (internal/kernels, through internal/vecmath, the
// kernels package ops/asm exposes): L2 on L2SquaredF32, Cosine and InnerProduct on DotF32. A build is a deterministic function of the Config, the
// vectors and their order, run after run. Across machines it holds with the same kernel backend
// (asm.Backend(): the AVX-512, AVX2 and pure Go kernels may round the last bits differently, and
// one bit can change a tie in the graph). Set GOGNN_ASM=generic, or build with -tags noasm, for
// indexes that match across amd64 CPUs.
package hnsw
