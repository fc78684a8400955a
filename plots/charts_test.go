package plots

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// decodePNG checks that b is a PNG of width x height pixels.
func decodePNG(t *testing.T, name string, b []byte, width, height int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", name, err)
	}
	if s := img.Bounds().Size(); s.X != width || s.Y != height {
		t.Errorf("%s: %d x %d pixels, want %d x %d", name, s.X, s.Y, width, height)
	}
}

func TestFiguresRenderAsPNG(t *testing.T) {
	xs := []float64{0, 100, 250, 500}
	figures := map[string][]Panel{
		"training curves": TrainingCurves(
			Run{Name: "GCN", TrainLoss: []float64{2, 1.5, 1}, ValLoss: []float64{2, 1.7, 1.4}, ValAcc: []float64{0.3, 0.5, 0.7}},
			Run{Name: "GAT", TrainLoss: []float64{2, 1.2}, ValLoss: []float64{2, 1.6}, ValAcc: []float64{0.3, 0.6}}),
		"accuracy vs depth": {AccuracyVsDepth(
			Series{Name: "plain", X: []float64{2, 4, 8}, Y: []float64{0.8, 0.7, 0.3}},
			Series{Name: "residual", X: []float64{2, 4, 8, 16}, Y: []float64{0.8, 0.8, 0.78, 0.77}})},
		"latency vs size": {LatencyVsSize(Series{Name: "sum", X: []float64{1e3, 1e4, 1e5}, Y: []float64{0.1, 1, 10}})},
		"recall vs qps":   {RecallVsQPS(10, Series{Name: "hnsw", X: []float64{0.5, 0.9, 0.99}, Y: []float64{5000, 2000, 500}})},
		"precision vs feedback": {PrecisionVsFeedback(10,
			Series{Name: "GNN re-ranked", X: xs, Y: []float64{0.5, 0.55, 0.6, 0.65}}, Flat("plain HNSW", xs, 0.5))},
		"attention":       {Attention(7, []string{"7 (self)", "12", "40"}, [][]float64{{0.2, 0.5}, {0.7, 0.1}, {0.1, 0.4}})},
		"signed heat map": {{Title: "gradient", Heatmap: &Heatmap{Values: [][]float64{{-0.3, 0.1}, {0, 0.3}}, Rows: []string{"0", "1"}, Cols: []string{"a", "b"}, Diverging: true, Format: "%+.1f"}}},
		"bars": {{Title: "file size", YLabel: "bytes", Bars: &Bars{Categories: []string{"fp32", "fp16", "int8"}, Format: "%.0f",
			Groups: []BarGroup{{Name: "GCN", Values: []float64{90000, 45000, 23000}}, {Name: "GAT", Values: []float64{370000, 185000, 94000}}}}}},
	}
	dir := os.Getenv("GOGNN_PLOTS_DIR") // set it to look at the figures
	for name, panels := range figures {
		b, err := PNG(800, 500, panels...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		decodePNG(t, name, b, 800, 500)
		if dir != "" {
			if err := os.WriteFile(filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".png"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Save draws the same panels to files: heat maps and bars as SVG too.
	for _, name := range []string{"attention", "bars"} {
		path := filepath.Join(t.TempDir(), "f.svg")
		if err := Save(path, 4*vg.Inch, 3*vg.Inch, figures[name]...); err != nil {
			t.Fatalf("%s as SVG: %v", name, err)
		}
		if b, err := os.ReadFile(path); err != nil || !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s: no SVG written (%v)", name, err)
		}
	}
	// Any size: the canvas is exactly the pixels asked for.
	b, err := PNG(321, 123, figures["latency vs size"]...)
	if err != nil {
		t.Fatal(err)
	}
	decodePNG(t, "321 x 123", b, 321, 123)
}

func TestFigureErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		w, h   int
		panels []Panel
		want   string
	}{
		"no panels":     {800, 500, nil, "nothing to draw"},
		"too small":     {10, 500, []Panel{LatencyVsSize()}, "too small"},
		"heat rows":     {800, 500, []Panel{Attention(1, []string{"a"}, [][]float64{{1}, {2}})}, "row labels"},
		"heat ragged":   {800, 500, []Panel{{Heatmap: &Heatmap{Values: [][]float64{{1, 2}, {3}}, Rows: []string{"a", "b"}, Cols: []string{"x", "y"}}}}, `row 1 ("b")`},
		"heat empty":    {800, 500, []Panel{Attention(1, nil, nil)}, "without values"},
		"bars count":    {800, 500, []Panel{{Bars: &Bars{Categories: []string{"a", "b"}, Groups: []BarGroup{{Name: "g", Values: []float64{1}}}}}}, `"g" has 1 values for 2`},
		"bars negative": {800, 500, []Panel{{Bars: &Bars{Categories: []string{"a"}, Groups: []BarGroup{{Name: "g", Values: []float64{-1}}}}}}, ">= 0"},
		"series":        {800, 500, []Panel{{Series: []Series{{Name: "s", X: []float64{1, 2}, Y: []float64{1}}}}}, `"s" has 2 x and 1 y`},
	} {
		_, err := PNG(tc.w, tc.h, tc.panels...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, tc.want)
		}
	}
}
