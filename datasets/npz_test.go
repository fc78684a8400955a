package datasets

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// npyBytes writes a .npy version 1.0 file with the given dtype descr, shape literal and data.
func npyBytes(descr, shape string, data []byte) []byte {
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.WriteString(npyMagic)
	b.Write([]byte{1, 0})
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

func i32s(v ...int32) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, v)
	return b.Bytes()
}

func f32s(v ...float32) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, v)
	return b.Bytes()
}

func i64s(v ...int64) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, v)
	return b.Bytes()
}

// zipNPZ stores the arrays uncompressed, as np.savez does.
func zipNPZ(t testing.TB, arrays map[string][]byte, order []string) []byte {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, name := range order {
		f, err := w.CreateHeader(&zip.FileHeader{Name: name + ".npy", Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		f.Write(arrays[name])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var tinyOrder = []string{"adj_data", "adj_indices", "adj_indptr", "adj_shape", "attr_data", "attr_indices", "attr_indptr", "attr_shape", "labels", "class_names"}

// tinyNPZ is a 4-node graph: 0->1, 1->0 (duplicate direction), 1->2, 2->2 (self-loop), node 3
// isolated; features with a count of 3 (binarised to 1); labels int8 0,1,1,0.
func tinyNPZ(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"adj_data":     npyBytes("<f4", "(4,)", f32s(1, 1, 1, 1)),
		"adj_indices":  npyBytes("<i4", "(4,)", i32s(1, 0, 2, 2)),
		"adj_indptr":   npyBytes("<i4", "(5,)", i32s(0, 1, 3, 4, 4)),
		"adj_shape":    npyBytes("<i8", "(2,)", i64s(4, 4)),
		"attr_data":    npyBytes("<f4", "(3,)", f32s(3, 1, 1)),
		"attr_indices": npyBytes("<i4", "(3,)", i32s(2, 0, 1)),
		"attr_indptr":  npyBytes("<i4", "(5,)", i32s(0, 1, 2, 3, 3)),
		"attr_shape":   npyBytes("<i8", "(2,)", i64s(4, 3)),
		"labels":       npyBytes("|i1", "(4,)", []byte{0, 1, 1, 0}),
		// A pickled object array where only names are: never read.
		"class_names": npyBytes("|O", "(2,)", []byte("\x80\x02cos\nsystem\nq\x00.")),
	}
}

func TestParseNPZTiny(t *testing.T) {
	d, err := ParseNPZ(zipNPZ(t, tinyNPZ(t), tinyOrder))
	if err != nil {
		t.Fatal(err)
	}
	if d.NumNodes() != 4 || d.NumFeatures() != 3 || d.NumClasses != 2 {
		t.Fatalf("got %d nodes, %d features, %d classes", d.NumNodes(), d.NumFeatures(), d.NumClasses)
	}
	// Undirected, no self-loop, no duplicate: 0-1, 1-2 in both directions.
	if got := d.Graph.String(); d.Graph.NumEdges() != 4 {
		t.Fatalf("graph %s: %d edges, want 4", got, d.Graph.NumEdges())
	}
	for i, want := range [][]int32{{1}, {0, 2}, {1}, {}} {
		src, _ := d.Graph.Row(i)
		if fmt.Sprint(src) != fmt.Sprint(want) {
			t.Errorf("row %d: %v, want %v", i, src, want)
		}
	}
	if fmt.Sprint(d.Features.Values) != "[1 1 1]" {
		t.Errorf("features %v, want binarised", d.Features.Values)
	}
	lcc, keep, err := d.LargestComponent()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(keep) != "[0 1 2]" || lcc.Graph.NumEdges() != 4 || fmt.Sprint(lcc.Labels) != "[0 1 1]" {
		t.Errorf("largest component: keep %v, %d edges, labels %v", keep, lcc.Graph.NumEdges(), lcc.Labels)
	}
}

func TestParseNPZErrors(t *testing.T) {
	good := zipNPZ(t, tinyNPZ(t), tinyOrder)
	cases := []struct {
		name string
		data func() []byte
		want string
	}{
		{"truncated", func() []byte { return good[:len(good)/2] }, "truncated or corrupt"},
		{"empty", func() []byte { return nil }, "not a readable npz"},
		{"pickled labels", func() []byte {
			a := tinyNPZ(t)
			a["labels"] = npyBytes("|O", "(4,)", []byte("\x80\x02cos\nsystem\n."))
			return zipNPZ(t, a, tinyOrder)
		}, "never unpickled"},
		{"missing array", func() []byte {
			a := tinyNPZ(t)
			return zipNPZ(t, a, tinyOrder[1:])
		}, `no array "adj_data"`},
		{"short data", func() []byte {
			a := tinyNPZ(t)
			a["adj_indices"] = npyBytes("<i4", "(5,)", i32s(1, 0, 2, 2))
			return zipNPZ(t, a, tinyOrder)
		}, "needs 20 data bytes"},
		{"column out of range", func() []byte {
			a := tinyNPZ(t)
			a["adj_indices"] = npyBytes("<i4", "(4,)", i32s(1, 0, 9, 2))
			return zipNPZ(t, a, tinyOrder)
		}, "out of range"},
		{"label count", func() []byte {
			a := tinyNPZ(t)
			a["labels"] = npyBytes("|i1", "(3,)", []byte{0, 1, 1})
			return zipNPZ(t, a, tinyOrder)
		}, "labels has shape"},
	}
	for _, c := range cases {
		_, err := ParseNPZ(c.data())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// sharedNPZ returns the shared data directory holding npz/cora.npz, or skips.
func sharedNPZ(t *testing.T) string {
	root := os.Getenv("GNN_DATA")
	if root == "" {
		root = "../../shared/datasets"
	}
	if _, err := os.Stat(filepath.Join(root, "npz", "cora.npz")); err != nil {
		t.Skipf("npz/cora.npz not found under %s (set GNN_DATA)", root)
	}
	return root
}

func TestLoadNPZCora(t *testing.T) {
	root := sharedNPZ(t)
	d, err := LoadNPZ("npz:cora", Dir(root), NoDownload())
	if err != nil {
		t.Fatal(err)
	}
	// The sizes of the shared data's README and of PyTorch Geometric.
	if d.NumNodes() != 2708 || d.NumFeatures() != 1433 || d.NumClasses != 7 || d.Graph.NumEdges() != 10556 || d.Features.NNZ() != 49216 {
		t.Fatalf("cora.npz: %d nodes, %d features, %d classes, %d edges, %d non-zeros", d.NumNodes(), d.NumFeatures(), d.NumClasses, d.Graph.NumEdges(), d.Features.NNZ())
	}
	lcc, _, err := d.LargestComponent()
	if err != nil {
		t.Fatal(err)
	}
	// Shchur et al., Table 1: Cora's largest connected component has 2485 nodes, 5069 edges.
	if lcc.NumNodes() != 2485 || lcc.Graph.NumEdges() != 2*5069 {
		t.Errorf("largest component: %d nodes, %d edges, want 2485 and %d", lcc.NumNodes(), lcc.Graph.NumEdges(), 2*5069)
	}
	train, val, test, dropped, err := RandomSplit(lcc.Labels, lcc.NumClasses, 20, 30, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(train) != 140 || len(val) != 210 || len(test) != 2485-350 || dropped != nil {
		t.Errorf("split %d/%d/%d", len(train), len(val), len(test))
	}
	train2, _, _, _, _ := RandomSplit(lcc.Labels, lcc.NumClasses, 20, 30, 2)
	if fmt.Sprint(train) == fmt.Sprint(train2) {
		t.Error("seeds 1 and 2 drew the same split")
	}
	// A class too small for 20 + 30 nodes is left out.
	_, _, test3, dropped, err := RandomSplit([]int{0, 0, 0, 1, 1, 1, 1, 1}, 2, 1, 3, 1)
	if err != nil || fmt.Sprint(dropped) != "[0]" || len(test3) != 1 {
		t.Errorf("small class: dropped %v, test %v, %v", dropped, test3, err)
	}
}

func TestLoadNPZDownload(t *testing.T) {
	data := zipNPZ(t, tinyNPZ(t), tinyOrder)
	sum := sha256.Sum256(data)
	srv, n := fileServer(t, map[string][]byte{"tiny.npz": data, "bad.npz": data[:100]})
	dir := t.TempDir()
	sums := withSums(map[string]string{"tiny.npz": hex.EncodeToString(sum[:]), "bad.npz": hex.EncodeToString(sum[:])})
	d, err := LoadNPZ("npz:tiny", Dir(dir), BaseURL(srv.URL+"/data"), sums)
	if err != nil {
		t.Fatal(err)
	}
	if d.NumNodes() != 4 || n.Load() != 1 {
		t.Fatalf("%d nodes after %d requests", d.NumNodes(), n.Load())
	}
	// Present now: read without a request.
	if _, err := LoadNPZ("npz:tiny", Dir(dir), BaseURL(srv.URL+"/data"), sums); err != nil || n.Load() != 1 {
		t.Fatalf("second load: %v after %d requests", err, n.Load())
	}
	// A download whose checksum does not match is refused and leaves nothing behind.
	if _, err := LoadNPZ("npz:bad", Dir(dir), BaseURL(srv.URL+"/data"), sums); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("bad download: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "npz", "bad.npz")); err == nil {
		t.Error("a corrupt download was kept")
	}
	if _, err := LoadNPZ("npz:absent", Dir(t.TempDir()), NoDownload()); err == nil || !strings.Contains(err.Error(), "GNN_DATA") {
		t.Errorf("missing file without download: %v", err)
	}
	for _, bad := range []string{"npz:", "npz:../x", "nosuch"} {
		if _, err := LoadNPZ(bad, Dir(dir), NoDownload()); err == nil {
			t.Errorf("LoadNPZ(%q) succeeded", bad)
		}
	}
	if f, err := NPZFile("amazon-computers"); err != nil || f != "amazon_electronics_computers" {
		t.Errorf("amazon-computers -> %q, %v", f, err)
	}
}

func TestNPYDtypes(t *testing.T) {
	a, err := parseNPY(npyBytes(">i2", "(2,)", []byte{0xff, 0xfe, 0, 7}))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := a.ints()
	if fmt.Sprint(v) != "[-2 7]" {
		t.Errorf("big-endian int16: %v", v)
	}
	b, err := parseNPY(npyBytes("<f8", "(1,)", binary.LittleEndian.AppendUint64(nil, math.Float64bits(2.5))))
	if err != nil || b.float(0) != 2.5 {
		t.Errorf("float64: %v %v", b, err)
	}
	if _, err := b.ints(); err == nil {
		t.Error("2.5 read as an integer")
	}
}

func FuzzParseNPZ(f *testing.F) {
	f.Add(zipNPZ(f, tinyNPZ(f), tinyOrder))
	f.Add([]byte("PK\x03\x04"))
	f.Add(npyBytes("<f4", "(1,)", f32s(1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseNPZ(b)
		if err != nil {
			return
		}
		if err := d.Graph.Validate(); err != nil {
			t.Fatalf("accepted an invalid graph: %v", err)
		}
		if err := d.Features.Validate(); err != nil {
			t.Fatalf("accepted invalid features: %v", err)
		}
		for _, l := range d.Labels {
			if l < 0 || l >= d.NumClasses {
				t.Fatalf("label %d outside [0, %d)", l, d.NumClasses)
			}
		}
	})
}

func FuzzParseNPY(f *testing.F) {
	f.Add(npyBytes("<f4", "(2,)", f32s(1, 2)))
	f.Add(npyBytes("|i1", "(2, 1)", []byte{1, 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseNPY(b)
		if err != nil {
			return
		}
		if a.numeric() {
			for i := 0; i < a.len(); i++ {
				_ = a.float(i)
			}
		}
	})
}
