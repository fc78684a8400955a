package datasets

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gnnlab/gognn/graph"
)

// NPZBaseURL is where missing npz graphs are downloaded from: the repository of Shchur et al.
// (github.com/shchur/gnn-benchmark, data/npz/), which PyTorch Geometric's Amazon and Coauthor
// classes also use.
const NPZBaseURL = "https://github.com/shchur/gnn-benchmark/raw/master/data/npz"

// npzSHA256 holds the SHA-256 of each npz file whose content is known (the shared data's
// SHA256SUMS, gnn-benchmark commit 1e72912a). Downloads of other files are accepted unverified;
// add their sums here once computed from trusted copies.
var npzSHA256 = map[string]string{
	"cora.npz": "068e22d90c3849b4057dfb05851741428992af058efcd4e7ebb4186f3d581de2",
}

// NPZNames maps the data-set names of the command line to their files in <data>/npz/.
var NPZNames = map[string]string{
	"amazon-computers": "amazon_electronics_computers",
	"amazon-photo":     "amazon_electronics_photo",
	"coauthor-cs":      "ms_academic_cs",
	"coauthor-physics": "ms_academic_phy",
	"cora-full":        "cora_full",
}

// maxNPZ bounds an npz file; the largest of Shchur et al. (Coauthor Physics) is about 130 MB.
const maxNPZ = 1 << 30

// NPZ is a node-classification graph in the npz layout of Shchur et al. 2018 ("Pitfalls of
// Graph Neural Network Evaluation"): Amazon Computers and Photo, Coauthor CS and Physics,
// Cora-full, and npz forms of Cora, CiteSeer and PubMed.
type NPZ struct {
	// Name is the data set as given to LoadNPZ.
	Name string
	// Features is the NumNodes x NumFeatures feature matrix, binarised (every stored non-zero
	// value becomes 1) as PyTorch Geometric's npz reader does.
	Features *SparseMatrix
	// Labels holds each node's class in [0, NumClasses).
	Labels     []int
	NumClasses int
	// Graph is undirected (each edge stored both ways), without self-loops or duplicates.
	Graph *graph.CSR
}

// NumNodes returns the number of nodes.
func (d *NPZ) NumNodes() int { return d.Features.Rows }

// NumFeatures returns the number of features per node.
func (d *NPZ) NumFeatures() int { return d.Features.Cols }

// NPZFile returns the file name (without .npz) that a data-set name reads: NPZNames for the
// named sets, <file> for "npz:<file>".
func NPZFile(name string) (string, error) {
	if f, ok := strings.CutPrefix(name, "npz:"); ok {
		if f == "" || strings.ContainsAny(f, `/\`) || f == "." || f == ".." {
			return "", fmt.Errorf("npz: data set %q: want npz:<file> with a plain file name, read from <data>/npz/<file>.npz", name)
		}
		return f, nil
	}
	if f, ok := NPZNames[strings.ToLower(name)]; ok {
		return f, nil
	}
	names := make([]string, 0, len(NPZNames))
	for k := range NPZNames {
		names = append(names, k)
	}
	sort.Strings(names)
	return "", fmt.Errorf("npz: unknown data set %q, want one of %s or npz:<file>", name, strings.Join(names, ", "))
}

// LoadNPZ loads the data set name (one of NPZNames, or "npz:<file>" for <data>/npz/<file>.npz)
// from the npz/ subdirectory of the data directory, downloading a missing file from NPZBaseURL
// (or BaseURL) unless NoDownload is given; a file of known content must match its SHA-256. The
// options are those of LoadPlanetoid; RowNormalize divides each feature row by its sum.
//
// The graph is made undirected and its self-loops dropped, as PyTorch Geometric does; call
// LargestComponent for the protocol of Shchur et al.
func LoadNPZ(name string, opts ...Option) (*NPZ, error) {
	file, err := NPZFile(name)
	if err != nil {
		return nil, err
	}
	cfg := config{download: true, baseURL: NPZBaseURL, sums: npzSHA256}
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.rootSet {
		cfg.root = DataDir("")
	}
	dir := filepath.Join(cfg.root, "npz")
	path := filepath.Join(dir, file+".npz")
	if err := fetchFile(&cfg, "npz", dir, file+".npz"); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("npz: %v", err)
	}
	d, err := ParseNPZ(b)
	if err != nil {
		return nil, fmt.Errorf("npz: %s: %v", path, err)
	}
	d.Name = name
	if cfg.normalize {
		d.Features = d.Features.RowNormalized()
	}
	return d, nil
}

// fetchFile downloads dir/file from cfg.baseURL when it is missing and cfg allows; errors start
// with what ("npz", "tu").
func fetchFile(cfg *config, what, dir, file string) error {
	_, err := os.Stat(filepath.Join(dir, file))
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: cannot look for %s in %s: %v", what, file, dir, err)
	}
	if !cfg.download {
		return fmt.Errorf("%s: %s not found in %s; set GNN_DATA or -data to a directory whose %s/ holds it, or allow downloads (drop NoDownload)", what, file, dir, filepath.Base(dir))
	}
	hint := fmt.Sprintf("fetch %s/%s by hand into %s, or set GNN_DATA or -data to a directory whose %s/ holds it", cfg.baseURL, file, dir, filepath.Base(dir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %s not found and cannot create %s for the download: %v; %s", what, file, dir, err, hint)
	}
	client := cfg.client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Minute}
	}
	ctx := cfg.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if err := download(ctx, client, cfg.baseURL+"/"+file, filepath.Join(dir, file), cfg.sums[file]); err != nil {
		return fmt.Errorf("%s: downloading %s into %s: %v; %s", what, file, dir, err, hint)
	}
	return nil
}

// ParseNPZ decodes an npz file of Shchur et al.: an uncompressed (or deflated) zip of .npy
// arrays adj_data, adj_indices, adj_indptr, adj_shape (the CSR adjacency, row i listing the
// nodes i links to), attr_data, attr_indices, attr_indptr, attr_shape (the CSR features) and
// labels. Other entries (class_names, node_names, attr_names, sometimes pickled object arrays)
// are never read. A required array stored as a pickled object array is an error.
func ParseNPZ(b []byte) (*NPZ, error) {
	if len(b) > maxNPZ {
		return nil, fmt.Errorf("%d bytes, more than the %d accepted", len(b), maxNPZ)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("not a readable npz (zip) archive: %v (a truncated or corrupt file; delete it to download it again)", err)
	}
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		entries[f.Name] = f
	}
	read := func(name string) (*npyArray, error) {
		f, ok := entries[name+".npy"]
		if !ok {
			return nil, fmt.Errorf("no array %q: not an npz graph in the layout of Shchur et al. (2018)", name)
		}
		if f.UncompressedSize64 > maxNPZ {
			return nil, fmt.Errorf("array %q: %d bytes, more than the %d accepted", name, f.UncompressedSize64, maxNPZ)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("array %q: %v", name, err)
		}
		defer rc.Close()
		raw, err := io.ReadAll(io.LimitReader(rc, maxNPZ))
		if err != nil {
			return nil, fmt.Errorf("array %q: %v (a truncated or corrupt file)", name, err)
		}
		a, err := parseNPY(raw)
		if err != nil {
			return nil, fmt.Errorf("array %q: %v", name, err)
		}
		if !a.numeric() {
			return nil, fmt.Errorf("array %q holds strings, want numbers", name)
		}
		return a, nil
	}
	adj, err := readCSR(read, "adj")
	if err != nil {
		return nil, err
	}
	attr, err := readCSR(read, "attr")
	if err != nil {
		return nil, err
	}
	n := adj.Rows
	if adj.Cols != n {
		return nil, fmt.Errorf("adj_shape is %d x %d, want a square adjacency", adj.Rows, adj.Cols)
	}
	if attr.Rows != n {
		return nil, fmt.Errorf("attr_shape has %d rows for %d nodes", attr.Rows, n)
	}
	la, err := read("labels")
	if err != nil {
		return nil, err
	}
	if len(la.shape) != 1 || la.len() != n {
		return nil, fmt.Errorf("labels has shape %v, want (%d,)", la.shape, n)
	}
	labels, err := la.ints()
	if err != nil {
		return nil, fmt.Errorf("labels: %v", err)
	}
	classes := 0
	for i, l := range labels {
		if l < 0 {
			return nil, fmt.Errorf("labels: node %d has label %d, want >= 0", i, l)
		}
		classes = max(classes, l+1)
	}
	for e := range attr.Values {
		if attr.Values[e] != 0 {
			attr.Values[e] = 1
		}
	}
	src := make([]int, 0, 2*adj.NNZ())
	dst := make([]int, 0, 2*adj.NNZ())
	for i := 0; i < n; i++ {
		cols, _ := adj.Row(i)
		for _, j := range cols {
			if int(j) != i {
				src = append(src, i, int(j))
				dst = append(dst, int(j), i)
			}
		}
	}
	g, err := graph.FromEdges(n, src, dst)
	if err != nil {
		return nil, err
	}
	return &NPZ{Features: attr, Labels: labels, NumClasses: classes, Graph: g.Coalesce()}, nil
}

// readCSR assembles the CSR matrix <p>_data, <p>_indices, <p>_indptr, <p>_shape, checked.
func readCSR(read func(string) (*npyArray, error), p string) (*SparseMatrix, error) {
	arrays := make([]*npyArray, 4)
	for k, s := range []string{"data", "indices", "indptr", "shape"} {
		a, err := read(p + "_" + s)
		if err != nil {
			return nil, err
		}
		arrays[k] = a
	}
	data, indices, indptr, shape := arrays[0], arrays[1], arrays[2], arrays[3]
	sh, err := shape.ints()
	if err != nil || len(sh) != 2 || sh[0] < 0 || sh[1] < 0 {
		return nil, fmt.Errorf("%s_shape: want two non-negative integers", p)
	}
	ptr, err := indptr.ints()
	if err != nil {
		return nil, fmt.Errorf("%s_indptr: %v", p, err)
	}
	col, err := indices.ints()
	if err != nil {
		return nil, fmt.Errorf("%s_indices: %v", p, err)
	}
	if data.len() != len(col) {
		return nil, fmt.Errorf("%s_data has %d values for %d indices", p, data.len(), len(col))
	}
	if len(ptr) != sh[0]+1 {
		return nil, fmt.Errorf("%s_indptr has %d entries for %d rows, want %d", p, len(ptr), sh[0], sh[0]+1)
	}
	m := &SparseMatrix{Rows: sh[0], Cols: sh[1], RowPtr: ptr, ColIdx: make([]int32, len(col)), Values: make([]float32, len(col))}
	for e, c := range col {
		m.ColIdx[e] = int32(c)
		m.Values[e] = float32(data.float(e))
	}
	// Validate wants sorted, distinct columns; scipy allows any order and duplicates.
	if err := checkPtr(m); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	m.canonicalize()
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	return m, nil
}

// checkPtr checks the row pointers and column range before canonicalize trusts them.
func checkPtr(m *SparseMatrix) error {
	if m.RowPtr[0] != 0 || m.RowPtr[m.Rows] != len(m.ColIdx) {
		return fmt.Errorf("indptr runs from %d to %d, want 0 to %d", m.RowPtr[0], m.RowPtr[m.Rows], len(m.ColIdx))
	}
	for i := 0; i < m.Rows; i++ {
		if m.RowPtr[i+1] < m.RowPtr[i] {
			return fmt.Errorf("indptr decreases at row %d", i)
		}
	}
	for e, c := range m.ColIdx {
		if c < 0 || int(c) >= m.Cols {
			return fmt.Errorf("entry %d: column %d out of range [0, %d)", e, c, m.Cols)
		}
	}
	return nil
}

// LargestComponent returns the data set restricted to its largest connected component (ties go
// to the component with the smallest node), nodes kept in their order, and the original index of
// each kept node.
func (d *NPZ) LargestComponent() (*NPZ, []int, error) {
	comp := Components(d.Graph)
	size := map[int]int{}
	best := -1
	for _, c := range comp {
		size[c]++
	}
	for _, c := range comp {
		if best < 0 || size[c] > size[best] {
			best = c
		}
	}
	var keep []int
	for i, c := range comp {
		if c == best {
			keep = append(keep, i)
		}
	}
	g, err := d.Graph.Subgraph(keep)
	if err != nil {
		return nil, nil, err
	}
	labels := make([]int, len(keep))
	rowPtr := make([]int, len(keep)+1)
	var cols []int32
	var vals []float32
	for k, i := range keep {
		labels[k] = d.Labels[i]
		c, v := d.Features.Row(i)
		cols = append(cols, c...)
		vals = append(vals, v...)
		rowPtr[k+1] = len(cols)
	}
	classes := 0
	for _, l := range labels {
		classes = max(classes, l+1)
	}
	// Keep the class count of the full set so that label ids stay comparable.
	classes = max(classes, d.NumClasses)
	f := &SparseMatrix{Rows: len(keep), Cols: d.Features.Cols, RowPtr: rowPtr, ColIdx: cols, Values: vals}
	return &NPZ{Name: d.Name, Features: f, Labels: labels, NumClasses: classes, Graph: g}, keep, nil
}

// Components labels each node of an undirected graph with the smallest node id of its connected
// component.
func Components(g *graph.CSR) []int {
	comp := make([]int, g.NumDst)
	for i := range comp {
		comp[i] = -1
	}
	var stack []int
	for s := range comp {
		if comp[s] >= 0 {
			continue
		}
		comp[s] = s
		stack = append(stack[:0], s)
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for e := g.RowPtr[v]; e < g.RowPtr[v+1]; e++ {
				u := int(g.ColIdx[e])
				if comp[u] < 0 {
					comp[u] = s
					stack = append(stack, u)
				}
			}
		}
	}
	return comp
}

// RandomSplit draws the per-class split of Shchur et al.: trainPerClass nodes of every class for
// training, valPerClass for validation, the rest for testing, uniformly at random with the seed
// (PCG). A class with fewer than trainPerClass+valPerClass nodes is left out of all three sets
// (Shchur et al. drop such classes; Cora-full has some) and reported in dropped. The three
// lists are ascending.
func RandomSplit(labels []int, numClasses, trainPerClass, valPerClass int, seed uint64) (train, val, test, dropped []int, err error) {
	if trainPerClass < 0 || valPerClass < 0 {
		return nil, nil, nil, nil, fmt.Errorf("datasets: random split with %d train and %d validation nodes per class: want >= 0", trainPerClass, valPerClass)
	}
	byClass := make([][]int, numClasses)
	for i, l := range labels {
		if l < 0 || l >= numClasses {
			return nil, nil, nil, nil, fmt.Errorf("datasets: node %d has label %d, want [0, %d)", i, l, numClasses)
		}
		byClass[l] = append(byClass[l], i)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5bd1e995))
	for c, nodes := range byClass {
		if len(nodes) < trainPerClass+valPerClass {
			dropped = append(dropped, c)
			continue
		}
		rng.Shuffle(len(nodes), func(i, j int) { nodes[i], nodes[j] = nodes[j], nodes[i] })
		train = append(train, nodes[:trainPerClass]...)
		val = append(val, nodes[trainPerClass:trainPerClass+valPerClass]...)
		test = append(test, nodes[trainPerClass+valPerClass:]...)
	}
	sort.Ints(train)
	sort.Ints(val)
	sort.Ints(test)
	return train, val, test, dropped, nil
}
