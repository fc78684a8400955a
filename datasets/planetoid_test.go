package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// sharedData returns the data directory holding the real Cora files: $GNN_DATA, else
// ../shared/datasets next to the module root. It skips the test when the files are absent.
func sharedData(t testing.TB) string {
	t.Helper()
	root, err := findSharedData()
	if err != nil {
		t.Skipf("real Cora files not found: %v; set GNN_DATA to the shared datasets directory", err)
	}
	return root
}

func findSharedData() (string, error) {
	root := os.Getenv("GNN_DATA")
	if root == "" {
		dir, err := os.Getwd()
		if err != nil {
			return "", err
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return "", errors.New("no go.mod above the test directory")
			}
			dir = parent
		}
		root = filepath.Join(dir, "..", "shared", "datasets")
	}
	if _, err := os.Stat(filepath.Join(root, "planetoid", "ind.cora.x")); err != nil {
		return "", err
	}
	return root, nil
}

func loadCora(t testing.TB, opts ...Option) *Planetoid {
	t.Helper()
	root := sharedData(t)
	p, err := LoadPlanetoid("cora", append([]Option{Dir(root), NoDownload()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCora(t *testing.T) {
	p := loadCora(t)
	if p.Name != "cora" || p.NumNodes() != 2708 || p.NumFeatures() != 1433 || p.NumClasses != 7 {
		t.Fatalf("cora: %s, %d nodes, %d features, %d classes; want cora, 2708, 1433, 7", p.Name, p.NumNodes(), p.NumFeatures(), p.NumClasses)
	}
	if err := p.Features.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := p.Features.NNZ(); got != 49216 {
		t.Errorf("features: %d non-zeros, want 49216", got)
	}
	for e, v := range p.Features.Values {
		if v != 1 {
			t.Fatalf("feature entry %d is %v; Cora's bag-of-words features are binary", e, v)
		}
	}
	if len(p.Labels) != 2708 {
		t.Fatalf("%d labels, want 2708", len(p.Labels))
	}
	// Class sizes of Cora, as PyTorch Geometric reports them.
	count := make([]int, p.NumClasses)
	for v, l := range p.Labels {
		if l < 0 || l >= p.NumClasses {
			t.Fatalf("node %d: label %d out of range", v, l)
		}
		count[l]++
	}
	if want := []int{351, 217, 418, 818, 426, 298, 180}; !slices.Equal(count, want) {
		t.Errorf("class sizes %v, want %v", count, want)
	}

	// The public split: 20 training nodes per class, then 500 validation nodes, 1000 test nodes.
	if !slices.Equal(p.Train, seq(0, 140)) || !slices.Equal(p.Val, seq(140, 640)) {
		t.Errorf("train %d nodes from %v, val %d nodes from %v; want 0..139 and 140..639", len(p.Train), p.Train[:1], len(p.Val), p.Val[:1])
	}
	perClass := make([]int, p.NumClasses)
	for _, v := range p.Train {
		perClass[p.Labels[v]]++
	}
	for c, n := range perClass {
		if n != 20 {
			t.Errorf("class %d has %d training nodes, want 20", c, n)
		}
	}
	if !slices.Equal(p.Test, seq(1708, 2708)) {
		t.Errorf("test: %d nodes, want the 1000 nodes 1708..2707", len(p.Test))
	}

	// The graph: 5278 undirected edges stored both ways = 10556, PyG's count; no self-loops.
	g := p.Graph
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	if g.NumSrc != 2708 || g.NumDst != 2708 || g.NumEdges() != 10556 || g.Weights != nil {
		t.Fatalf("graph %v, want 2708 nodes and 10556 unweighted edges", g)
	}
	edges := map[[2]int32]bool{}
	dst := g.Dst()
	for e, s := range g.ColIdx {
		if s == dst[e] {
			t.Fatalf("self-loop at node %d", s)
		}
		edges[[2]int32{s, dst[e]}] = true
	}
	if len(edges) != 10556 {
		t.Fatalf("%d distinct edges, want 10556 (duplicates left in)", len(edges))
	}
	same := 0
	for e := range edges {
		if !edges[[2]int32{e[1], e[0]}] {
			t.Fatalf("edge %d -> %d has no reverse", e[0], e[1])
		}
		if p.Labels[e[0]] == p.Labels[e[1]] {
			same++
		}
	}
	// Cora's edge homophily is 0.81. Test nodes put at the wrong positions would break the
	// agreement between the graph and the labels.
	if h := float64(same) / float64(len(edges)); h < 0.80 || h > 0.82 {
		t.Errorf("edge homophily %.3f, want about 0.81", h)
	}
	sameTest, testEdges := 0, 0
	for e := range edges {
		if e[0] >= 1708 && e[1] >= 1708 {
			testEdges++
			if p.Labels[e[0]] == p.Labels[e[1]] {
				sameTest++
			}
		}
	}
	if h := float64(sameTest) / float64(testEdges); h < 0.7 {
		t.Errorf("homophily among test nodes %.3f (%d edges): the test rows are misplaced", h, testEdges)
	}
}

func TestCoraRowNormalize(t *testing.T) {
	raw := loadCora(t)
	p := loadCora(t, RowNormalize())
	if !slices.Equal(p.Features.ColIdx, raw.Features.ColIdx) {
		t.Fatal("normalisation changed the sparsity pattern")
	}
	for i := 0; i < p.NumNodes(); i++ {
		_, vals := p.Features.Row(i)
		_, rawVals := raw.Features.Row(i)
		var sum float64
		for _, v := range vals {
			sum += float64(v)
		}
		switch {
		case len(vals) == 0 && sum != 0:
			t.Fatalf("row %d: empty row sums to %v", i, sum)
		case len(vals) > 0 && math.Abs(sum-1) > 1e-5:
			t.Fatalf("row %d sums to %v after normalisation", i, sum)
		case len(vals) > 0 && vals[0] != float32(1/float64(len(rawVals))):
			t.Fatalf("row %d: %v, want 1/%d", i, vals[0], len(rawVals))
		}
	}
}

// TestCoraReadOnly checks that loading from a directory holding all the files writes nothing.
func TestCoraReadOnly(t *testing.T) {
	root := sharedData(t)
	dir := filepath.Join(root, "planetoid")
	before := snapshot(t, dir)
	// A download attempt would fail loudly: the base URL is unreachable.
	if _, err := LoadPlanetoid("cora", Dir(root), BaseURL("http://127.0.0.1:1")); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, dir); !slices.Equal(before, after) {
		t.Fatalf("loading changed %s:\nbefore %v\nafter  %v", dir, before, after)
	}
}

// snapshot lists the names, sizes and modification times in dir.
func snapshot(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d %s %s", e.Name(), info.Size(), info.Mode(), info.ModTime().Format(time.RFC3339Nano)))
	}
	return out
}

// TestCiteSeerGaps loads a small CiteSeer-shaped data set whose test.index is out of order and
// has a gap: test node test.index[k] must take row k of tx and ty, the gap node an empty row and
// label -1, outside every split.
func TestCiteSeerGaps(t *testing.T) {
	for _, dt := range []string{"i4", "f8"} {
		t.Run(dt, func(t *testing.T) {
			s := smallCiteSeer(dt)
			root := t.TempDir()
			writeFiles(t, root, "citeseer", s.files())
			p, err := LoadPlanetoid("CiteSeer", Dir(root), NoDownload())
			if err != nil {
				t.Fatal(err)
			}
			if p.NumNodes() != 510 || p.NumFeatures() != 7 || p.NumClasses != 3 {
				t.Fatalf("%d nodes, %d features, %d classes; want 510, 7, 3", p.NumNodes(), p.NumFeatures(), p.NumClasses)
			}
			if err := p.Features.Validate(); err != nil {
				t.Fatal(err)
			}
			dense := p.Features.Dense()
			for v := 0; v < 510; v++ {
				if !slices.Equal(dense[v*7:(v+1)*7], s.features[v]) {
					t.Errorf("node %d: features %v, want %v", v, dense[v*7:(v+1)*7], s.features[v])
				}
			}
			if !slices.Equal(p.Labels, s.labels) {
				t.Errorf("labels differ: node 505..509 %v, want %v", p.Labels[505:], s.labels[505:])
			}
			if p.Labels[508] != -1 {
				t.Errorf("gap node 508 has label %d, want -1", p.Labels[508])
			}
			if cols, _ := p.Features.Row(508); len(cols) != 0 {
				t.Errorf("gap node 508 has %d features, want none", len(cols))
			}
			if !slices.Equal(p.Train, []int{0, 1, 2}) || !slices.Equal(p.Val, seq(3, 503)) || !slices.Equal(p.Test, []int{505, 506, 507, 509}) {
				t.Errorf("split train %v, val %d..%d, test %v", p.Train, p.Val[0], p.Val[len(p.Val)-1], p.Test)
			}
			// Ring of 509 nodes (both ways) plus nothing else: the duplicate and the self-loops go.
			if p.Graph.NumDst != 510 || p.Graph.NumEdges() != 2*509 {
				t.Errorf("graph %v, want 510 nodes and %d edges", p.Graph, 2*509)
			}
			if in := p.Graph.InDegrees(); in[508] != 0 || in[0] != 2 {
				t.Errorf("degrees: node 508 %d (want 0), node 0 %d (want 2)", in[508], in[0])
			}
		})
	}
}

// TestPlanetoidErrors checks that inconsistent files give errors naming the file and the fault.
func TestPlanetoidErrors(t *testing.T) {
	good := smallCiteSeer("i4").files()
	x := good["x"]
	cases := []struct {
		name   string
		edit   func(f map[string][]byte)
		suffix string
		want   string
	}{
		{"wrong class", func(f map[string][]byte) { f["x"] = f["y"] }, "x", "want a scipy.sparse.csr_matrix"},
		{"labels not an array", func(f map[string][]byte) { f["ally"] = x }, "ally", "want a numpy.ndarray"},
		{"graph not a dict", func(f map[string][]byte) { f["graph"] = f["y"] }, "graph", "want a dict"},
		{"truncated", func(f map[string][]byte) { f["tx"] = f["tx"][:len(f["tx"])/2] }, "tx", "truncated"},
		{"empty", func(f map[string][]byte) { f["ty"] = nil }, "ty", "empty file"},
		{"feature width", func(f map[string][]byte) { f["tx"] = denseCSR(4, 6, make([]float32, 24)) }, "tx", "6 feature columns"},
		{"label rows", func(f map[string][]byte) { f["ty"] = onehotPickle([]int{0, 1, 2}, 3, "i4") }, "ty", "3 label rows for 4"},
		{"label width", func(f map[string][]byte) { f["y"] = onehotPickle([]int{0, 1, 2}, 4, "i4") }, "ally", "y has 4"},
		{"index count", func(f map[string][]byte) { f["test.index"] = []byte("505\n506\n507\n") }, "test.index", "3 indices for 4 rows"},
		{"index repeated", func(f map[string][]byte) { f["test.index"] = []byte("505\n506\n506\n507\n") }, "test.index", "listed twice"},
		{"index text", func(f map[string][]byte) { f["test.index"] = []byte("505\nfive\n506\n507\n") }, "test.index", `line 2: "five"`},
		{"index start", func(f map[string][]byte) { f["test.index"] = []byte("506\n507\n509\n510\n") }, "test.index", "want 505"},
		{"index far", func(f map[string][]byte) { f["test.index"] = []byte("505\n506\n507\n2000000000\n") }, "test.index", "gaps"},
		{"split unlabelled", func(f map[string][]byte) {
			l := make([]int, 505)
			l[10] = -1
			f["ally"] = onehotPickle(l, 3, "i4")
		}, "ally", "node 10 of the validation split"},
		{"graph range", func(f map[string][]byte) { f["graph"] = graphPickle([]int{0}, [][]int{{510}}) }, "graph", "neighbour 510, out of range"},
		{"graph key", func(f map[string][]byte) { f["graph"] = graphPickle([]int{600}, [][]int{{1}}) }, "graph", "node 600 out of range"},
		{"hostile", func(f map[string][]byte) { f["graph"] = []byte("cos\nsystem\n(S'echo owned'\ntR.") }, "graph", `global "os.system" is not allowed`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := map[string][]byte{}
			for k, v := range good {
				f[k] = v
			}
			c.edit(f)
			_, err := parsePlanetoid("citeseer", "/data/planetoid", f)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "planetoid: /data/planetoid/ind.citeseer."+c.suffix+": ") || !strings.Contains(msg, c.want) {
				t.Fatalf("error %q, want it to name ind.citeseer.%s and say %q", msg, c.suffix, c.want)
			}
			if errors.Is(err, errPicklePanic) {
				t.Fatalf("the pickle reader panicked: %v", err)
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v does not match ErrCorrupt", err)
			}
		})
	}
}

func TestUnknownName(t *testing.T) {
	_, err := LoadPlanetoid("reddit", Dir(t.TempDir()))
	if err == nil || !strings.Contains(err.Error(), "cora, citeseer, pubmed") {
		t.Fatalf("error %v, want the list of known names", err)
	}
}

func TestDataDir(t *testing.T) {
	t.Setenv("GNN_DATA", "/env/data")
	if got := DataDir("/flag/data"); got != "/flag/data" {
		t.Errorf("DataDir(flag) = %q, want the flag", got)
	}
	if got := DataDir(""); got != "/env/data" {
		t.Errorf("DataDir(\"\") = %q, want $GNN_DATA", got)
	}
	t.Setenv("GNN_DATA", "")
	if got := DataDir(""); filepath.Base(got) != "gognn" {
		t.Errorf("DataDir(\"\") = %q, want a gognn cache directory", got)
	}
}

func TestNoDownloadMissing(t *testing.T) {
	root := t.TempDir()
	_, err := LoadPlanetoid("cora", Dir(root), NoDownload())
	want := "ind.cora.x, ind.cora.y"
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "not found in "+filepath.Join(root, "planetoid")) || !strings.Contains(err.Error(), "GNN_DATA or -data") {
		t.Fatalf("error %v, want it to list the missing files, the directory and the fix", err)
	}
	if _, err := os.Stat(filepath.Join(root, "planetoid")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("NoDownload created the directory: %v", err)
	}
}
