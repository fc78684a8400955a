package datasets

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gnnlab/gognn/graph"
)

// TUBaseURL is where missing TU data sets are downloaded from, as <TUBaseURL>/<NAME>.zip: the
// TUDataset site of Morris et al., which PyTorch Geometric's TUDataset also uses.
const TUBaseURL = "https://www.chrsmrrs.com/graphkerneldatasets"

// tuSHA256 holds the SHA-256 of the TU zips whose content is known. None could be checked where
// this code was written (the shared data holds the extracted text files), so downloads are
// accepted unverified; add sums here once computed from trusted copies.
var tuSHA256 = map[string]string{}

// maxTUFeatures bounds the dense feature values of a TU set (1 GiB of float32).
const maxTUFeatures = 1 << 28

// TUGraph is one graph of a TU data set, with local node ids 0..n-1.
type TUGraph struct {
	// Graph holds both directions of every undirected edge, as the files list them, sorted by
	// destination then source; with edge labels, its edge attributes (graph.CSR.EdgeAttr) are
	// their one-hot rows, NumEdgeLabels wide.
	Graph *graph.CSR
	// X is the n x NumFeatures feature matrix, row-major (see TUDataset.Features).
	X []float32
	// EdgeLabels holds the label of each edge of Graph in its edge order (nil when the set has
	// no DS_edge_labels.txt).
	EdgeLabels []int
	// Label is the graph's class in [0, NumClasses).
	Label int
}

// NumNodes returns the number of nodes of the graph.
func (g *TUGraph) NumNodes() int { return g.Graph.NumDst }

// TUDataset is a graph-classification benchmark in the TU format (Morris et al., "TUDataset",
// 2020).
type TUDataset struct {
	Name   string
	Graphs []TUGraph
	// NumFeatures is the width of every graph's X.
	NumFeatures int
	NumClasses  int
	// Features says what X holds: "node-labels" (one-hot of DS_node_labels.txt, the GIN
	// paper's input for the bioinformatics sets), "degree" (one-hot of the node degree, capped
	// at the largest degree of the set, for sets without node labels, as in the GIN paper) or
	// either followed by "+attributes" when WithNodeAttributes appended DS_node_attributes.txt.
	Features string
	// NumEdgeLabels is the number of distinct edge labels (0 without edge labels).
	NumEdgeLabels int
	// ClassValues maps each class back to the label written in DS_graph_labels.txt.
	ClassValues []int
}

// TUOption configures LoadTU and ParseTU beyond the common options.
type TUOption struct {
	// NodeAttributes appends the columns of DS_node_attributes.txt to X.
	NodeAttributes bool
}

// LoadTU loads the TU data set name (its directory name, e.g. "MUTAG", "PROTEINS") from
// <data>/tu/<name>/<name>_*.txt, downloading and extracting <TUBaseURL>/<name>.zip when the
// directory is missing and downloads are allowed (the Option values of LoadPlanetoid: Dir,
// NoDownload, BaseURL, HTTPClient, Context).
func LoadTU(name string, topt TUOption, opts ...Option) (*TUDataset, error) {
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("tu: data set %q: want a plain directory name such as MUTAG", name)
	}
	cfg := config{download: true, baseURL: TUBaseURL, sums: tuSHA256}
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.rootSet {
		cfg.root = DataDir("")
	}
	dir := filepath.Join(cfg.root, "tu", name)
	if err := fetchTU(&cfg, dir, name); err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, s := range tuSuffixes {
		b, err := os.ReadFile(filepath.Join(dir, name+"_"+s+".txt"))
		if errors.Is(err, fs.ErrNotExist) && !tuRequired[s] {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("tu: %v; set GNN_DATA or -data to a directory whose tu/%s/ holds the %s_*.txt files", err, name, name)
		}
		files[s] = b
	}
	d, err := ParseTU(files, topt)
	if err != nil {
		return nil, fmt.Errorf("tu: %s: %v", dir, err)
	}
	d.Name = name
	return d, nil
}

// tuSuffixes are the files of a TU set, DS_<suffix>.txt; tuRequired marks the ones it must have.
var (
	tuSuffixes = []string{"A", "graph_indicator", "graph_labels", "node_labels", "node_attributes", "edge_labels"}
	tuRequired = map[string]bool{"A": true, "graph_indicator": true, "graph_labels": true}
)

// fetchTU downloads and extracts <base>/<name>.zip into dir when dir does not exist.
func fetchTU(cfg *config, dir, name string) error {
	if _, err := os.Stat(dir); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil // present (or unreadable: the read reports it)
	}
	if !cfg.download {
		return fmt.Errorf("tu: %s not found; set GNN_DATA or -data to a directory whose tu/%s/ holds the %s_*.txt files, or allow downloads (drop NoDownload)", dir, name, name)
	}
	parent := filepath.Dir(dir)
	zipFile := name + ".zip"
	if err := fetchFile(cfg, "tu", parent, zipFile); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(parent, zipFile))
	if err != nil {
		return fmt.Errorf("tu: %v", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return fmt.Errorf("tu: %s: not a readable zip: %v; delete it to download it again", zipFile, err)
	}
	// Extract into a temporary directory renamed into place, so a failed extraction leaves no
	// half-filled directory behind.
	tmp, err := os.MkdirTemp(parent, "."+name+"-*")
	if err != nil {
		return fmt.Errorf("tu: %v", err)
	}
	defer os.RemoveAll(tmp)
	for _, f := range zr.File {
		base := path.Base(f.Name)
		if !strings.HasPrefix(base, name+"_") || !strings.HasSuffix(base, ".txt") || f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("tu: %s: %s: %v", zipFile, f.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, maxNPZ))
		rc.Close()
		if err != nil {
			return fmt.Errorf("tu: %s: %s: %v", zipFile, f.Name, err)
		}
		if err := os.WriteFile(filepath.Join(tmp, base), data, 0o644); err != nil {
			return fmt.Errorf("tu: %v", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("tu: %v", err)
	}
	return nil
}

// ParseTU decodes a TU data set from its files, keyed by suffix ("A", "graph_indicator",
// "graph_labels", and optionally "node_labels", "node_attributes", "edge_labels"). Node ids are
// 1-based and global; the graph indicator must be non-decreasing and cover graphs 1..N without
// gaps; every edge must join two nodes of one graph. Graph labels are remapped to 0..C-1 in
// increasing order of the values written (MUTAG's -1, 1 become 0, 1).
func ParseTU(files map[string][]byte, opt TUOption) (*TUDataset, error) {
	for s := range tuRequired {
		if files[s] == nil {
			return nil, fmt.Errorf("missing DS_%s.txt", s)
		}
	}
	ind, err := tuInts(files["graph_indicator"], "graph_indicator", 1)
	if err != nil {
		return nil, err
	}
	n := len(ind)
	numGraphs := 0
	for i, g := range ind {
		switch {
		case g[0] < 1:
			return nil, fmt.Errorf("DS_graph_indicator.txt line %d: graph id %d, want >= 1", i+1, g[0])
		case i > 0 && g[0] < ind[i-1][0]:
			return nil, fmt.Errorf("DS_graph_indicator.txt line %d: graph id %d after %d: the indicator must be sorted (nodes of a graph consecutive)", i+1, g[0], ind[i-1][0])
		case g[0] > numGraphs+1:
			return nil, fmt.Errorf("DS_graph_indicator.txt line %d: graph id %d after %d: graph %d has no nodes", i+1, g[0], numGraphs, numGraphs+1)
		}
		numGraphs = g[0]
	}
	glab, err := tuInts(files["graph_labels"], "graph_labels", 1)
	if err != nil {
		return nil, err
	}
	if len(glab) != numGraphs {
		return nil, fmt.Errorf("DS_graph_labels.txt has %d lines for %d graphs", len(glab), numGraphs)
	}
	// first[g] is the global id of graph g's first node (0-based graphs and nodes).
	first := make([]int, numGraphs+1)
	for i := n - 1; i >= 0; i-- {
		first[ind[i][0]-1] = i
	}
	first[numGraphs] = n

	edges, err := tuInts(files["A"], "A", 2)
	if err != nil {
		return nil, err
	}
	// Edges per graph, in file order.
	perGraph := make([][]int, numGraphs)
	for k, e := range edges {
		u, v := e[0], e[1]
		for _, x := range []int{u, v} {
			if x < 1 || x > n {
				return nil, fmt.Errorf("DS_A.txt line %d: node id %d out of range [1, %d] (DS_graph_indicator.txt has %d nodes)", k+1, x, n, n)
			}
		}
		gu, gv := ind[u-1][0], ind[v-1][0]
		if gu != gv {
			return nil, fmt.Errorf("DS_A.txt line %d: edge %d -> %d joins graphs %d and %d", k+1, u, v, gu, gv)
		}
		perGraph[gu-1] = append(perGraph[gu-1], k)
	}

	var edgeLab []int
	numEdgeLabels := 0
	if b := files["edge_labels"]; b != nil {
		el, err := tuInts(b, "edge_labels", 1)
		if err != nil {
			return nil, err
		}
		if len(el) != len(edges) {
			return nil, fmt.Errorf("DS_edge_labels.txt has %d lines for %d edges", len(el), len(edges))
		}
		edgeLab, numEdgeLabels, _ = dense(el)
	}
	d := &TUDataset{Graphs: make([]TUGraph, numGraphs), NumEdgeLabels: numEdgeLabels}
	labels, classes, values := dense(glab)
	d.NumClasses, d.ClassValues = classes, values
	for g := range d.Graphs {
		lo, hi := first[g], first[g+1]
		ks := perGraph[g]
		// Sort this graph's edges by (destination, source), the CSR order.
		sort.SliceStable(ks, func(a, b int) bool {
			ea, eb := edges[ks[a]], edges[ks[b]]
			if ea[1] != eb[1] {
				return ea[1] < eb[1]
			}
			return ea[0] < eb[0]
		})
		rowPtr := make([]int, hi-lo+1)
		col := make([]int32, len(ks))
		var el []int
		if edgeLab != nil {
			el = make([]int, len(ks))
		}
		for j, k := range ks {
			rowPtr[edges[k][1]-1-lo+1]++
			col[j] = int32(edges[k][0] - 1 - lo)
			if el != nil {
				el[j] = edgeLab[k]
			}
		}
		for i := 0; i < hi-lo; i++ {
			rowPtr[i+1] += rowPtr[i]
		}
		gr := &graph.CSR{NumSrc: hi - lo, NumDst: hi - lo, RowPtr: rowPtr, ColIdx: col}
		if el != nil {
			onehot := make([]float32, len(el)*numEdgeLabels)
			for e, l := range el {
				onehot[e*numEdgeLabels+l] = 1
			}
			var err error
			if gr, err = gr.WithEdgeAttr(onehot, numEdgeLabels); err != nil {
				return nil, err
			}
		}
		d.Graphs[g] = TUGraph{Graph: gr, EdgeLabels: el, Label: labels[g]}
	}

	// Node features: one-hot node labels, else one-hot degree.
	var onehot []int
	width := 0
	if b := files["node_labels"]; b != nil {
		nl, err := tuInts(b, "node_labels", 0)
		if err != nil {
			return nil, err
		}
		if len(nl) != n {
			return nil, fmt.Errorf("DS_node_labels.txt has %d lines for %d nodes", len(nl), n)
		}
		// As PyTorch Geometric: label - min, one column per value up to the largest.
		lo, hi := math.MaxInt, math.MinInt
		for _, r := range nl {
			lo, hi = min(lo, r[0]), max(hi, r[0])
		}
		if hi-lo > 1<<16 {
			return nil, fmt.Errorf("DS_node_labels.txt: labels span %d..%d, too many for one-hot features", lo, hi)
		}
		onehot, width = make([]int, n), hi-lo+1
		for i, r := range nl {
			onehot[i] = r[0] - lo
		}
		d.Features = "node-labels"
	} else {
		onehot = make([]int, n)
		for g := range d.Graphs {
			deg := d.Graphs[g].Graph.InDegrees()
			for i, k := range deg {
				onehot[first[g]+i] = k
				width = max(width, k+1)
			}
		}
		d.Features = "degree"
	}
	var attrs [][]float64
	attrWidth := 0
	if b := files["node_attributes"]; b != nil && opt.NodeAttributes {
		if attrs, err = tuFloats(b, "node_attributes"); err != nil {
			return nil, err
		}
		if len(attrs) != n {
			return nil, fmt.Errorf("DS_node_attributes.txt has %d lines for %d nodes", len(attrs), n)
		}
		attrWidth = len(attrs[0])
		d.Features += "+attributes"
	}
	d.NumFeatures = width + attrWidth
	if uint64(n)*uint64(d.NumFeatures) > maxTUFeatures {
		return nil, fmt.Errorf("%d nodes x %d features (%s) exceed the %d feature values accepted; a set with such degrees needs other input features", n, d.NumFeatures, d.Features, maxTUFeatures)
	}
	for g := range d.Graphs {
		lo, hi := first[g], first[g+1]
		x := make([]float32, (hi-lo)*d.NumFeatures)
		for i := lo; i < hi; i++ {
			row := x[(i-lo)*d.NumFeatures : (i-lo+1)*d.NumFeatures]
			row[onehot[i]] = 1
			if attrs != nil {
				for c, a := range attrs[i] {
					row[width+c] = float32(a)
				}
			}
		}
		d.Graphs[g].X = x
	}
	return d, nil
}

// dense maps integer labels to 0..C-1 in increasing order of value.
func dense(rows [][]int) (out []int, classes int, values []int) {
	seen := map[int]bool{}
	for _, r := range rows {
		if !seen[r[0]] {
			seen[r[0]] = true
			values = append(values, r[0])
		}
	}
	sort.Ints(values)
	index := make(map[int]int, len(values))
	for k, v := range values {
		index[v] = k
	}
	out = make([]int, len(rows))
	for i, r := range rows {
		out[i] = index[r[0]]
	}
	return out, len(values), values
}

// tuInts parses one line per record of comma-separated integers. want is the number of fields
// per line (0: one or more, the first one used).
func tuInts(b []byte, file string, want int) ([][]int, error) {
	var out [][]int
	err := tuLines(b, file, func(line int, fields []string) error {
		if want > 0 && len(fields) != want {
			return fmt.Errorf("DS_%s.txt line %d: %d fields, want %d", file, line, len(fields), want)
		}
		r := make([]int, len(fields))
		for k, f := range fields {
			v, err := strconv.Atoi(f)
			if err != nil || v < math.MinInt32 || v > math.MaxInt32 {
				return fmt.Errorf("DS_%s.txt line %d: %q is not a 32-bit integer", file, line, f)
			}
			r[k] = v
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// tuFloats parses one line per record of comma-separated numbers, all lines of one width.
func tuFloats(b []byte, file string) ([][]float64, error) {
	var out [][]float64
	err := tuLines(b, file, func(line int, fields []string) error {
		if len(out) > 0 && len(fields) != len(out[0]) {
			return fmt.Errorf("DS_%s.txt line %d: %d fields, earlier lines have %d", file, line, len(fields), len(out[0]))
		}
		r := make([]float64, len(fields))
		for k, f := range fields {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("DS_%s.txt line %d: %q is not a finite number", file, line, f)
			}
			r[k] = v
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

// tuLines calls f with the trimmed comma-separated fields of every non-empty line (1-based).
func tuLines(b []byte, file string, f func(line int, fields []string) error) error {
	line := 0
	for len(b) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			l, b = b, nil
		}
		s := strings.TrimSpace(string(l))
		if s == "" {
			continue
		}
		fields := strings.Split(s, ",")
		for k := range fields {
			fields[k] = strings.TrimSpace(fields[k])
		}
		if err := f(line, fields); err != nil {
			return err
		}
	}
	return nil
}
