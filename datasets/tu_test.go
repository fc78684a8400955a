package datasets

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyTU is two graphs: a triangle-free path 1-2-3 (graph 1, label 5) and an edge 4-5 (graph 2,
// label -1), both directions listed, with edge labels.
func tinyTU() map[string][]byte {
	return map[string][]byte{
		"A":               []byte("1, 2\n2, 1\n2, 3\n3, 2\n4, 5\n5, 4\n"),
		"graph_indicator": []byte("1\n1\n1\n2\n2\n"),
		"graph_labels":    []byte("5\n-1\n"),
		"edge_labels":     []byte("0\n0\n1\n1\n2\n2\n"),
	}
}

func TestParseTUTiny(t *testing.T) {
	d, err := ParseTU(tinyTU(), TUOption{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Graphs) != 2 || d.NumClasses != 2 || fmt.Sprint(d.ClassValues) != "[-1 5]" {
		t.Fatalf("%d graphs, %d classes %v", len(d.Graphs), d.NumClasses, d.ClassValues)
	}
	g0, g1 := d.Graphs[0], d.Graphs[1]
	if g0.Label != 1 || g1.Label != 0 || g0.NumNodes() != 3 || g1.NumNodes() != 2 {
		t.Fatalf("graphs: %+v %+v", g0, g1)
	}
	// No node labels: one-hot degree, width max degree + 1 = 3.
	if d.Features != "degree" || d.NumFeatures != 3 {
		t.Fatalf("features %q width %d", d.Features, d.NumFeatures)
	}
	if fmt.Sprint(g0.X) != "[0 1 0 0 0 1 0 1 0]" {
		t.Errorf("degree features %v", g0.X)
	}
	// CSR order of graph 0: row 0 <- 1 (label 0), row 1 <- 0 (0), 2 (1), row 2 <- 1 (1).
	if fmt.Sprint(g0.Graph.ColIdx) != "[1 0 2 1]" || fmt.Sprint(g0.EdgeLabels) != "[0 0 1 1]" {
		t.Errorf("graph 0 edges %v labels %v", g0.Graph.ColIdx, g0.EdgeLabels)
	}
	if err := g0.Graph.Validate(); err != nil {
		t.Error(err)
	}
	if attr, dim := g0.Graph.EdgeAttr(); dim != 3 || fmt.Sprint(attr) != "[1 0 0 1 0 0 0 1 0 0 1 0]" {
		t.Errorf("one-hot edge attributes %v (width %d)", attr, dim)
	}
	f := tinyTU()
	f["node_labels"] = []byte("3\n1\n1\n2\n3\n")
	f["node_attributes"] = []byte("0.5\n1\n2\n3\n4\n")
	d, err = ParseTU(f, TUOption{NodeAttributes: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Features != "node-labels+attributes" || d.NumFeatures != 4 || fmt.Sprint(d.Graphs[0].X[:4]) != "[0 0 1 0.5]" {
		t.Errorf("features %q width %d, first row %v", d.Features, d.NumFeatures, d.Graphs[0].X[:4])
	}
}

func TestParseTUErrors(t *testing.T) {
	cases := []struct {
		name, file, content, want string
	}{
		{"node id out of range", "A", "1, 2\n2, 1\n2, 9\n", "node id 9 out of range [1, 5]"},
		{"node id zero", "A", "0, 1\n", "node id 0 out of range"},
		{"unsorted indicator", "graph_indicator", "1\n2\n1\n2\n2\n", "must be sorted"},
		{"gap in indicator", "graph_indicator", "1\n1\n1\n3\n3\n", "graph 2 has no nodes"},
		{"edge across graphs", "A", "3, 4\n", "joins graphs 1 and 2"},
		{"label count", "graph_labels", "1\n", "1 lines for 2 graphs"},
		{"not a number", "A", "1, x\n", `"x" is not a 32-bit integer`},
		{"three fields", "A", "1, 2, 3\n", "3 fields, want 2"},
		{"edge label count", "edge_labels", "0\n", "1 lines for 6 edges"},
		{"node label count", "node_labels", "0\n", "1 lines for 5 nodes"},
	}
	for _, c := range cases {
		f := tinyTU()
		f[c.file] = []byte(c.content)
		_, err := ParseTU(f, TUOption{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// sharedTU returns the data directory holding tu/MUTAG, or skips.
func sharedTU(t *testing.T) string {
	root := os.Getenv("GNN_DATA")
	if root == "" {
		root = "../../shared/datasets"
	}
	if _, err := os.Stat(filepath.Join(root, "tu", "MUTAG")); err != nil {
		t.Skipf("tu/MUTAG not found under %s (set GNN_DATA)", root)
	}
	return root
}

func TestLoadTUShared(t *testing.T) {
	root := sharedTU(t)
	// The statistics of the shared data's README (tu/README.md).
	for _, want := range []struct {
		name                       string
		graphs, nodes, edges, feat int
		count0                     int
	}{
		{"MUTAG", 188, 3371, 7442, 7, 63},
		{"PROTEINS", 1113, 43471, 162088, 3, 663},
	} {
		d, err := LoadTU(want.name, TUOption{}, Dir(root), NoDownload())
		if err != nil {
			t.Fatal(err)
		}
		nodes, edges, count0 := 0, 0, 0
		for _, g := range d.Graphs {
			nodes += g.NumNodes()
			edges += g.Graph.NumEdges()
			if g.Label == 0 {
				count0++
			}
		}
		if len(d.Graphs) != want.graphs || nodes != want.nodes || edges != want.edges || d.NumFeatures != want.feat || count0 != want.count0 || d.NumClasses != 2 {
			t.Errorf("%s: %d graphs, %d nodes, %d edges, %d features, %d of class 0, %d classes", want.name, len(d.Graphs), nodes, edges, d.NumFeatures, count0, d.NumClasses)
		}
	}
	d, err := LoadTU("PROTEINS", TUOption{NodeAttributes: true}, Dir(root), NoDownload())
	if err != nil || d.NumFeatures != 4 {
		t.Fatalf("PROTEINS with attributes: %v, %d features", err, d.NumFeatures)
	}
}

func TestLoadTUDownload(t *testing.T) {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for s, c := range tinyTU() {
		f, _ := w.Create("TINY/TINY_" + s + ".txt")
		f.Write(c)
	}
	w.Close()
	srv, n := fileServer(t, map[string][]byte{"TINY.zip": b.Bytes()})
	dir := t.TempDir()
	d, err := LoadTU("TINY", TUOption{}, Dir(dir), BaseURL(srv.URL+"/data"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Graphs) != 2 || n.Load() != 1 {
		t.Fatalf("%d graphs after %d requests", len(d.Graphs), n.Load())
	}
	if _, err := LoadTU("TINY", TUOption{}, Dir(dir), BaseURL(srv.URL+"/data")); err != nil || n.Load() != 1 {
		t.Fatalf("second load: %v after %d requests", err, n.Load())
	}
	if _, err := LoadTU("NOPE", TUOption{}, Dir(dir), NoDownload()); err == nil || !strings.Contains(err.Error(), "GNN_DATA") {
		t.Errorf("missing set: %v", err)
	}
	if _, err := LoadTU("../x", TUOption{}, Dir(dir)); err == nil {
		t.Error("a path as data-set name was accepted")
	}
}

func FuzzParseTU(f *testing.F) {
	tiny := tinyTU()
	f.Add(tiny["A"], tiny["graph_indicator"], tiny["graph_labels"], tiny["edge_labels"], []byte("1\n2\n3\n1\n1\n"))
	f.Add([]byte("1, 1\n"), []byte("1\n"), []byte("0\n"), []byte(nil), []byte(nil))
	f.Fuzz(func(t *testing.T, a, ind, gl, el, nl []byte) {
		files := map[string][]byte{"A": a, "graph_indicator": ind, "graph_labels": gl}
		if el != nil {
			files["edge_labels"] = el
		}
		if nl != nil {
			files["node_labels"] = nl
		}
		d, err := ParseTU(files, TUOption{})
		if err != nil {
			return
		}
		for _, g := range d.Graphs {
			if err := g.Graph.Validate(); err != nil {
				t.Fatalf("accepted an invalid graph: %v", err)
			}
			if len(g.X) != g.NumNodes()*d.NumFeatures || g.Label < 0 || g.Label >= d.NumClasses {
				t.Fatalf("inconsistent graph: %d features for %d nodes, label %d", len(g.X), g.NumNodes(), g.Label)
			}
		}
	})
}
