package plots

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

func TestSaveWritesPNGAndSVG(t *testing.T) {
	dir := t.TempDir()
	p := Panel{Title: "loss", XLabel: "epoch", YLabel: "loss", Series: []Series{
		{Name: "train", X: Epochs(3), Y: []float64{3, 2, 1}},
		{Name: "val", X: Epochs(3), Y: []float64{3.5, 2.5, 2}},
	}}
	q := Panel{Title: "latency", XLabel: "nodes", YLabel: "ms", LogX: true, LogY: true,
		Series: []Series{{Name: "gcn", X: []float64{1e4, 1e5, 1e6}, Y: []float64{1, 10, 100}}}}
	for _, name := range []string{"c.png", "c.svg"} {
		path := filepath.Join(dir, "sub", name)
		if err := Save(path, 4*vg.Inch, 3*vg.Inch, p, q); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".png") && !bytes.HasPrefix(data, []byte("\x89PNG")) {
			t.Errorf("%s is not a PNG", name)
		}
		if strings.HasSuffix(name, ".svg") && !bytes.Contains(data, []byte("<svg")) {
			t.Errorf("%s is not an SVG", name)
		}
	}
	if err := Save(filepath.Join(dir, "c.jpg"), vg.Inch, vg.Inch, p); err == nil {
		t.Error("a .jpg path was accepted")
	}
	bad := Panel{Series: []Series{{Name: "x", X: []float64{1}, Y: nil}}}
	if err := Save(filepath.Join(dir, "bad.png"), vg.Inch, vg.Inch, bad); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("mismatched series: error %v", err)
	}
}
