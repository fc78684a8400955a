package datasets

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/internal/persist"
)

// Planetoid is a citation graph of Yang et al. (2016) with its standard "public" split, as
// used by Kipf & Welling (2017) and Velickovic et al. (2018) and loaded by PyTorch Geometric's
// Planetoid dataset.
//
// Sizes of the three data sets as PyTorch Geometric reports them (edges counted in both
// directions, as Graph stores them; the tests check the Cora row against the real files):
//
//	         nodes  edges  features  classes  train/val/test
//	cora      2708  10556      1433        7  140/500/1000
//	citeseer  3327   9104      3703        6  120/500/1000
//	pubmed   19717  88648       500        3   60/500/1000
type Planetoid struct {
	// Name is the data set: "cora", "citeseer" or "pubmed".
	Name string
	// Features is the NumNodes x NumFeatures node feature matrix: binary bag-of-words for Cora
	// and CiteSeer, TF-IDF for PubMed, each row divided by its sum when loaded with
	// RowNormalize. The isolated CiteSeer nodes missing from the files have all-zero rows.
	Features *SparseMatrix
	// Labels holds each node's class in [0, NumClasses), the position of the one in its one-hot
	// label row, or -1 where the row is all zero. Only CiteSeer's 15 isolated test-range nodes
	// have -1; PyTorch Geometric gives them 0 (the argmax of a zero row). They are in no split:
	// LoadPlanetoid fails if a node of Train, Val or Test has no label.
	Labels []int
	// NumClasses is the width of the one-hot label rows.
	NumClasses int
	// Graph is the citation graph over NumNodes nodes: undirected (each edge stored in both
	// directions), duplicates merged, self-loops removed, unweighted. Cora has 10556 stored
	// edges, the count PyTorch Geometric reports.
	Graph *graph.CSR
	// Train, Val and Test are the node indices of the public split, ascending: Train the first
	// len(y) nodes (20 per class), Val the next 500, Test the 1000 nodes of test.index.
	Train, Val, Test []int
}

// NumNodes returns the number of nodes.
func (p *Planetoid) NumNodes() int { return p.Features.Rows }

// NumFeatures returns the number of features per node.
func (p *Planetoid) NumFeatures() int { return p.Features.Cols }

// planetoidNames lists the data sets LoadPlanetoid knows.
var planetoidNames = []string{"cora", "citeseer", "pubmed"}

// planetoidSuffixes are the eight files of a data set, ind.<name>.<suffix>.
var planetoidSuffixes = []string{"x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"}

// publicValSize is the size of the public split's validation set.
const publicValSize = 500

// Option configures LoadPlanetoid.
type Option func(*config)

type config struct {
	root      string
	rootSet   bool
	normalize bool
	download  bool
	baseURL   string
	client    *http.Client
	ctx       context.Context
	sums      map[string]string // file name -> SHA-256 (hex) that downloads must match
}

// Dir sets the data directory; the files are read from, or downloaded to, its planetoid/
// subdirectory. The default is DataDir(""): $GNN_DATA, else the user cache directory.
func Dir(root string) Option { return func(c *config) { c.root, c.rootSet = root, true } }

// RowNormalize divides each feature row by its sum (rows summing to zero stay zero), the
// preprocessing of Kipf & Welling and of PyTorch Geometric's NormalizeFeatures.
func RowNormalize() Option { return func(c *config) { c.normalize = true } }

// NoDownload makes a missing file an error instead of a download.
func NoDownload() Option { return func(c *config) { c.download = false } }

// BaseURL sets where missing files are downloaded from, as url + "/ind.<name>.<suffix>"; the
// default is DefaultBaseURL.
func BaseURL(url string) Option { return func(c *config) { c.baseURL = strings.TrimRight(url, "/") } }

// HTTPClient sets the client for downloads; the default has a five-minute timeout.
func HTTPClient(client *http.Client) Option { return func(c *config) { c.client = client } }

// Context sets the context for downloads; the default is context.Background().
func Context(ctx context.Context) Option { return func(c *config) { c.ctx = ctx } }

// LoadPlanetoid loads the Planetoid data set name ("cora", "citeseer" or "pubmed", any case)
// from the files ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index} in the planetoid/
// subdirectory of the data directory, downloading the missing ones first (see Dir, NoDownload,
// BaseURL). Nothing is written when all eight files are present, so a read-only data directory
// works.
//
// The files are the authors' Python 2 pickles, read without running any Python: only numpy
// arrays (float32, float64, int32, int64, uint8 and bool), scipy CSR matrices and a defaultdict
// of lists are accepted, and a file naming any other Python global is refused. Feature values
// are stored as float32 whatever their dtype in the file.
//
// Errors name the file and its directory, what is wrong, and for a missing file how to provide
// it.
//
// The public split is built as the reference loaders (Kipf's gcn, PyTorch Geometric) build it.
// With na = rows of allx: nodes 0..na-1 take the rows of allx and ally; test node test.index[k]
// takes row k of tx and ty; the test.index range is na..max(test.index), and nodes of that range
// missing from test.index (CiteSeer has 15) get an empty feature row and label -1. Train is
// nodes 0..len(y)-1, Val the next 500, Test the nodes of test.index.
func LoadPlanetoid(name string, opts ...Option) (*Planetoid, error) {
	key := strings.ToLower(name)
	if !slices.Contains(planetoidNames, key) {
		return nil, fmt.Errorf("planetoid: unknown data set %q, want one of %s", name, strings.Join(planetoidNames, ", "))
	}
	cfg := config{download: true, baseURL: DefaultBaseURL, sums: planetoidSHA256}
	for _, o := range opts {
		o(&cfg)
	}
	if !cfg.rootSet {
		cfg.root = DataDir("")
	}
	dir := filepath.Join(cfg.root, "planetoid")
	if err := fetchMissing(&cfg, dir, key); err != nil {
		return nil, err
	}
	files := make(map[string][]byte, len(planetoidSuffixes))
	for _, s := range planetoidSuffixes {
		b, err := os.ReadFile(filepath.Join(dir, fileName(key, s)))
		if err != nil {
			return nil, fmt.Errorf("planetoid: %v", err)
		}
		files[s] = b
	}
	p, err := parsePlanetoid(key, dir, files)
	if err != nil {
		return nil, err
	}
	if cfg.normalize {
		p.Features = p.Features.RowNormalized()
	}
	return p, nil
}

func fileName(name, suffix string) string { return "ind." + name + "." + suffix }

// parsePlanetoid decodes the eight files of data set name (read from dir, which is only named in
// errors) and assembles the public split.
func parsePlanetoid(name, dir string, files map[string][]byte) (*Planetoid, error) {
	where := func(suffix string) string { return filepath.Join(dir, fileName(name, suffix)) }
	bad := func(suffix string, format string, args ...any) error {
		return persist.Corrupt(fmt.Errorf("planetoid: %s: %s", where(suffix), fmt.Sprintf(format, args...)))
	}
	sparse := func(suffix string) (*SparseMatrix, error) {
		v, err := unpickle(files[suffix])
		if err != nil {
			return nil, bad(suffix, "%v", err)
		}
		m, ok := v.(*csrMatrix)
		if !ok {
			return nil, bad(suffix, "holds a %s, want a scipy.sparse.csr_matrix", pyTypeName(v))
		}
		s, err := m.sparse()
		if err != nil {
			return nil, bad(suffix, "%v", err)
		}
		return s, nil
	}
	// onehot decodes a 2-D label array into per-row labels (-1 for an all-zero row).
	onehot := func(suffix string) (labels []int, classes int, err error) {
		v, err := unpickle(files[suffix])
		if err != nil {
			return nil, 0, bad(suffix, "%v", err)
		}
		a, ok := v.(*ndarray)
		if !ok {
			return nil, 0, bad(suffix, "holds a %s, want a numpy.ndarray", pyTypeName(v))
		}
		if a.raw == nil || len(a.shape) != 2 {
			return nil, 0, bad(suffix, "holds an array of rank %d, want a 2-D one-hot label array", len(a.shape))
		}
		rows, cols := a.shape[0], a.shape[1]
		vals := a.float64s()
		labels = make([]int, rows)
		for i := range labels {
			best, at := 0.0, -1
			for j, x := range vals[i*cols : (i+1)*cols] {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return nil, 0, bad(suffix, "label row %d holds %v", i, x)
				}
				if x > best {
					best, at = x, j
				}
			}
			labels[i] = at
		}
		return labels, cols, nil
	}

	x, err := sparse("x")
	if err != nil {
		return nil, err
	}
	tx, err := sparse("tx")
	if err != nil {
		return nil, err
	}
	allx, err := sparse("allx")
	if err != nil {
		return nil, err
	}
	y, ncy, err := onehot("y")
	if err != nil {
		return nil, err
	}
	ty, ncty, err := onehot("ty")
	if err != nil {
		return nil, err
	}
	ally, ncally, err := onehot("ally")
	if err != nil {
		return nil, err
	}
	test, err := parseIndex(files["test.index"])
	if err != nil {
		return nil, bad("test.index", "%v", err)
	}
	v, err := unpickle(files["graph"])
	if err != nil {
		return nil, bad("graph", "%v", err)
	}
	keys, lists, err := adjacency(v)
	if err != nil {
		return nil, bad("graph", "%v", err)
	}

	// Shapes must agree.
	nf := allx.Cols
	for _, c := range []struct {
		suffix string
		m      *SparseMatrix
	}{{"x", x}, {"tx", tx}} {
		if c.m.Cols != nf {
			return nil, bad(c.suffix, "%d feature columns, but allx has %d", c.m.Cols, nf)
		}
	}
	if ncally < 1 {
		return nil, bad("ally", "label rows have no columns")
	}
	if ncy != ncally || ncty != ncally {
		return nil, bad("ally", "%d label columns, but y has %d and ty %d", ncally, ncy, ncty)
	}
	for _, c := range []struct {
		suffix     string
		rows, want int
	}{{"y", len(y), x.Rows}, {"ty", len(ty), tx.Rows}, {"ally", len(ally), allx.Rows}} {
		if c.rows != c.want {
			return nil, bad(c.suffix, "%d label rows for %d feature rows", c.rows, c.want)
		}
	}
	na, nx, nt := allx.Rows, x.Rows, tx.Rows
	if nx+publicValSize > na {
		return nil, bad("allx", "%d rows; the public split needs len(y) + %d = %d", na, publicValSize, nx+publicValSize)
	}
	if len(test) != nt {
		return nil, bad("test.index", "%d indices for %d rows of tx", len(test), nt)
	}
	if nt == 0 {
		return nil, bad("test.index", "no test nodes")
	}
	sorted := slices.Clone(test)
	slices.Sort(sorted)
	for k := 1; k < nt; k++ {
		if sorted[k] == sorted[k-1] {
			return nil, bad("test.index", "node %d is listed twice", sorted[k])
		}
	}
	if sorted[0] != na {
		return nil, bad("test.index", "smallest test node is %d, want %d (the first node after the %d rows of allx)", sorted[0], na, na)
	}
	span := sorted[nt-1] - na + 1
	if span-nt > nt {
		return nil, bad("test.index", "test nodes span %d..%d, leaving %d gaps for %d test nodes; at most %d gaps are accepted", na, sorted[nt-1], span-nt, nt, nt)
	}
	n := na + span

	// Features: allx, then tx rows at their test positions, empty rows in the gaps.
	feat := &SparseMatrix{Rows: n, Cols: nf, RowPtr: make([]int, n+1)}
	rowOf := make([]int, span) // tx row of node na+i, or -1
	for i := range rowOf {
		rowOf[i] = -1
	}
	for k, node := range test {
		rowOf[node-na] = k
	}
	nnz := allx.NNZ() + tx.NNZ()
	feat.ColIdx = make([]int32, 0, nnz)
	feat.Values = make([]float32, 0, nnz)
	feat.ColIdx = append(feat.ColIdx, allx.ColIdx...)
	feat.Values = append(feat.Values, allx.Values...)
	copy(feat.RowPtr, allx.RowPtr)
	for i, k := range rowOf {
		if k >= 0 {
			c, v := tx.Row(k)
			feat.ColIdx = append(feat.ColIdx, c...)
			feat.Values = append(feat.Values, v...)
		}
		feat.RowPtr[na+i+1] = len(feat.ColIdx)
	}

	labels := make([]int, n)
	copy(labels, ally)
	for i, k := range rowOf {
		labels[na+i] = -1
		if k >= 0 {
			labels[na+i] = ty[k]
		}
	}

	p := &Planetoid{
		Name:       name,
		Features:   feat,
		Labels:     labels,
		NumClasses: ncally,
		Train:      seq(0, nx),
		Val:        seq(nx, nx+publicValSize),
		Test:       sorted,
	}
	for _, split := range []struct {
		name  string
		nodes []int
	}{{"train", p.Train}, {"validation", p.Val}, {"test", p.Test}} {
		for _, v := range split.nodes {
			if labels[v] < 0 {
				return nil, bad("ally", "node %d of the %s split has an all-zero label row", v, split.name)
			}
		}
	}

	// Graph: undirected, no self-loops, duplicates merged.
	var src, dst []int
	for i, k := range keys {
		if k >= n {
			return nil, bad("graph", "node %d out of range [0, %d)", k, n)
		}
		for _, j := range lists[i] {
			if j >= n {
				return nil, bad("graph", "node %d lists neighbour %d, out of range [0, %d)", k, j, n)
			}
			if j != k {
				src, dst = append(src, k), append(dst, j)
			}
		}
	}
	g, err := graph.FromEdges(n, src, dst)
	if err != nil {
		return nil, bad("graph", "%v", err)
	}
	if p.Graph, err = g.Symmetrize(); err != nil {
		return nil, bad("graph", "%v", err)
	}
	return p, nil
}

// parseIndex reads test.index: one non-negative decimal integer per line; blank lines and
// surrounding spaces are ignored.
func parseIndex(b []byte) ([]int, error) {
	var out []int
	for i, line := range bytes.Split(b, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" {
			continue
		}
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("line %d: %q is not a node index", i+1, clip(s))
		}
		out = append(out, int(v))
	}
	return out, nil
}

func seq(lo, hi int) []int {
	s := make([]int, hi-lo)
	for i := range s {
		s[i] = lo + i
	}
	return s
}
