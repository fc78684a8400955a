package benchplot

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gnnlab/gognn/bench"
)

func TestScaling(t *testing.T) {
	rep := &bench.Report{Results: []bench.Result{
		{Op: "gcn_forward", N: 10000, P50MS: 4},
		{Op: "gcn_forward", N: 100000, P50MS: 60},
		{Op: "aggregate_mean", N: 10000, P50MS: 3},
		{Op: "aggregate_mean", N: 100000, P50MS: 70},
	}}
	path := filepath.Join(t.TempDir(), "scaling.png")
	if err := Scaling(rep, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG")) || len(b) < 1000 {
		t.Fatalf("scaling.png: %d bytes, not a PNG", len(b))
	}
}
