package models

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorgonia.org/tensor"

	"github.com/gnnlab/gognn/graph"
	"github.com/gnnlab/gognn/modelfile"
	"github.com/gnnlab/gognn/nn"
)

var saveArchs = []Architecture{
	{Model: "gcn", In: 6, Hidden: 16, Classes: 3, Dropout: 0.5},
	{Model: "gat", In: 6, Hidden: 4, Heads: 3, Classes: 3, OutHeads: 2, Dropout: 0.6},
	{Model: "sage", In: 6, Hidden: 8, Classes: 3, Aggr: "mean", Dropout: 0.5},
	{Model: "sage", In: 6, Hidden: 8, Classes: 3, Aggr: "lstm", Dropout: 0.5},
}

// built is a model built over a graph, with the evaluator of its logits.
type built struct {
	c    *nn.Context
	m    Model
	eval *Evaluator
}

func buildOn(t *testing.T, arch Architecture, seed uint64, a *graph.CSR, feats [][]float32) built {
	t.Helper()
	c, err := nn.NewContext(tensor.Float32, seed)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(c, arch)
	if err != nil {
		t.Fatal(err)
	}
	logits, err := m.Forward(c, a, denseFeatures(c, feats))
	if err != nil {
		t.Fatal(err)
	}
	e := NewEvaluator(c, logits)
	t.Cleanup(func() { e.Close() })
	return built{c: c, m: m, eval: e}
}

func logitsOf(t *testing.T, b built) [][]float64 {
	t.Helper()
	l, err := b.eval.Logits()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSaveLoadRoundTrip(t *testing.T) {
	a, feats, _, _, _, _ := communities(120, 3, 5)
	for _, arch := range saveArchs {
		for _, p := range []modelfile.Precision{modelfile.FP32, modelfile.FP16, modelfile.INT8} {
			t.Run(arch.Model+"/"+string(p), func(t *testing.T) {
				src := buildOn(t, arch, 1, a, feats)
				want := logitsOf(t, src)
				path := filepath.Join(t.TempDir(), "m.gnn")
				if err := Save(path, arch, src.m.Learnables(), p); err != nil {
					t.Fatal(err)
				}
				gotArch, values, err := Load(path)
				if err != nil {
					t.Fatal(err)
				}
				if gotArch != arch {
					t.Fatalf("architecture %+v, saved %+v", gotArch, arch)
				}
				// Another seed: the restored values, not the initialisation, must decide.
				dst := buildOn(t, gotArch, 2, a, feats)
				if err := Restore(dst.m.Learnables(), values); err != nil {
					t.Fatal(err)
				}
				got := logitsOf(t, dst)
				maxDiff, scale := 0.0, 0.0
				for i := range want {
					for j := range want[i] {
						if p == modelfile.FP32 && math.Float64bits(got[i][j]) != math.Float64bits(want[i][j]) {
							t.Fatalf("fp32 logit [%d][%d] = %v, saved model gives %v: want bit-identical", i, j, got[i][j], want[i][j])
						}
						maxDiff = max(maxDiff, math.Abs(got[i][j]-want[i][j]))
						scale = max(scale, math.Abs(want[i][j]))
					}
				}
				tol := map[modelfile.Precision]float64{modelfile.FP32: 0, modelfile.FP16: 2e-3, modelfile.INT8: 5e-2}[p]
				if maxDiff > tol*max(scale, 1) {
					t.Errorf("%s: largest logit change %.3g (largest logit %.3g), want at most %.0e relative", p, maxDiff, scale, tol)
				}
			})
		}
	}
}

func TestLoadCorruptFile(t *testing.T) {
	a, feats, _, _, _, _ := communities(60, 3, 5)
	src := buildOn(t, saveArchs[0], 1, a, feats)
	path := filepath.Join(t.TempDir(), "m.gnn")
	if err := Save(path, saveArchs[0], src.m.Learnables(), modelfile.FP32); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{3, 25, len(data) / 2, len(data) - 1} {
		bad := append([]byte(nil), data...)
		bad[at] ^= 0x10
		p := filepath.Join(t.TempDir(), "bad.gnn")
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Load(p); err == nil {
			t.Errorf("byte %d of %d flipped: Load succeeded, want an error", at, len(data))
		}
	}
	p := filepath.Join(t.TempDir(), "short.gnn")
	if err := os.WriteFile(p, data[:len(data)-7], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(p); err == nil {
		t.Error("truncated file: Load succeeded, want an error")
	}
	// A valid model file whose architecture is not ours.
	if err := modelfile.Write(p, map[string]any{"model": "mlp", "layers": 3}, nil, modelfile.FP32); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(p); err == nil {
		t.Error("foreign architecture: Load succeeded, want an error")
	}
}

func TestRestoreMismatch(t *testing.T) {
	a, feats, _, _, _, _ := communities(60, 3, 5)
	src := buildOn(t, saveArchs[0], 1, a, feats)
	path := filepath.Join(t.TempDir(), "m.gnn")
	if err := Save(path, saveArchs[0], src.m.Learnables(), modelfile.FP32); err != nil {
		t.Fatal(err)
	}
	_, values, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}

	narrow := saveArchs[0]
	narrow.Hidden = 8
	dst := buildOn(t, narrow, 2, a, feats)
	before := logitsOf(t, dst)
	err = Restore(dst.m.Learnables(), values)
	if err == nil || !strings.Contains(err.Error(), "parameter gcn1.lin.weight has shape (6, 8) in the model but 96 values in the file") {
		t.Fatalf("hidden 8 from a hidden-16 file: error %v, want one naming gcn1.lin.weight's shape", err)
	}
	after := logitsOf(t, dst)
	for i := range before {
		for j := range before[i] {
			if before[i][j] != after[i][j] {
				t.Fatal("a failed Restore changed the model")
			}
		}
	}

	gat := buildOn(t, saveArchs[1], 2, a, feats)
	err = Restore(gat.m.Learnables(), values)
	if err == nil || !strings.Contains(err.Error(), "is missing from the file") || !strings.Contains(err.Error(), "is no parameter of the model") {
		t.Fatalf("GAT from a GCN file: error %v, want missing and extra parameters named", err)
	}
}

// The architecture's names of parameters are what the tests above rely on.
func TestSaveNames(t *testing.T) {
	a, feats, _, _, _, _ := communities(60, 3, 5)
	b := buildOn(t, saveArchs[0], 1, a, feats)
	if n := b.m.Learnables()[0].Name(); n != "gcn1.lin.weight" {
		t.Fatalf("first GCN parameter is %s, the tests expect gcn1.lin.weight", n)
	}
}

const saveForeverEnv = "GOGNN_SAVE_FOREVER"

// killArch is large enough (about 0.5 MB) that a kill often lands during a write.
var killArch = Architecture{Model: "gcn", In: 2000, Hidden: 64, Classes: 7, Dropout: 0.5}

// fillVersion sets every value of every parameter to v.
func fillVersion(b built, v float32) {
	for _, n := range b.m.Learnables() {
		d := n.Value().(*tensor.Dense).Float32s()
		for i := range d {
			d[i] = v
		}
	}
}

// TestHelperSaveForever is the child process of TestSaveSurvivesKill: it saves versions 1, 2,
// ... of a model to the path in $GOGNN_SAVE_FOREVER until it is killed.
func TestHelperSaveForever(t *testing.T) {
	path := os.Getenv(saveForeverEnv)
	if path == "" {
		t.Skip("child process of TestSaveSurvivesKill")
	}
	a, feats := tinyGraph()
	b := buildOn(t, killArch, 1, a, feats)
	for v := 1; ; v++ {
		fillVersion(b, float32(v))
		if err := Save(path, killArch, b.m.Learnables(), modelfile.FP32); err != nil {
			t.Fatal(err)
		}
	}
}

func tinyGraph() (*graph.CSR, [][]float32) {
	a, err := graph.FromEdges(2, []int{0, 1}, []int{1, 0})
	if err != nil {
		panic(err)
	}
	feats := [][]float32{make([]float32, killArch.In), make([]float32, killArch.In)}
	return a, feats
}

// checkVersion loads path and returns the version every value holds.
func checkVersion(t *testing.T, path string) float32 {
	t.Helper()
	arch, values, err := Load(path)
	if err != nil {
		t.Fatalf("after the kill: %v", err)
	}
	if arch != killArch {
		t.Fatalf("architecture %+v, saved %+v", arch, killArch)
	}
	version := float32(-1)
	for name, vs := range values {
		for _, v := range vs {
			if version < 0 {
				version = v
			}
			if v != version {
				t.Fatalf("tensor %s holds %v and %v: a mix of two saved versions", name, version, v)
			}
		}
	}
	return version
}

func TestSaveSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.gnn")
	a, feats := tinyGraph()
	b := buildOn(t, killArch, 1, a, feats)
	fillVersion(b, 0)
	if err := Save(path, killArch, b.m.Learnables(), modelfile.FP32); err != nil {
		t.Fatal(err)
	}

	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSaveForever$", "-test.count=1")
		cmd.Env = append(os.Environ(), saveForeverEnv+"="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Wait for the child's first save, then let it save for ~200 ms more.
		deadline := time.Now().Add(20 * time.Second)
		for checkVersion(t, path) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix
			t.Fatal(err)
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("child ended with %v, want killed", err)
		}
		if exit.ExitCode() != -1 { // -1: ended by a signal
			t.Fatalf("child exited by itself (%v) before the kill", err)
		}
		v := checkVersion(t, path)
		if v < 1 || v != float32(int(v)) {
			t.Fatalf("after the kill the file holds version %v, want one the child saved (1, 2, ...)", v)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Logf("round %d: file holds version %v; directory: %s", round, v, strings.Join(names, " "))
	}

	// Left-over temporary files must not stop the next save or load.
	fillVersion(b, 1e6)
	if err := Save(path, killArch, b.m.Learnables(), modelfile.FP32); err != nil {
		t.Fatal(err)
	}
	if v := checkVersion(t, path); v != 1e6 {
		t.Fatalf("save after the kills: file holds version %v, want 1e6", v)
	}
}
