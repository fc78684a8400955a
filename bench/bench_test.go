package bench

import (
	"math"
	"strings"
	"testing"
)

// TestRunEveryOp runs each op on a small graph: outputs are finite (Measure checks) and every
// field of a result is filled.
func TestRunEveryOp(t *testing.T) {
	res, err := Run(Config{N: 300, Deg: 4, Repeat: 2, Warmup: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(Ops) {
		t.Fatalf("%d results for %d ops", len(res), len(Ops))
	}
	for i, r := range res {
		if r.Op != Ops[i] || r.N != 300 || r.Deg != 4 || r.Runs != 2 {
			t.Errorf("result %d: %+v", i, r)
		}
		for name, v := range map[string]float64{"p50": r.P50MS, "min": r.MinMS, "gflops": r.GFLOPS, "flops": r.FLOPs} {
			if !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("%s: %s = %v", r.Op, name, v)
			}
		}
		if r.MinMS > r.P50MS {
			t.Errorf("%s: min %v > p50 %v", r.Op, r.MinMS, r.P50MS)
		}
	}
	rep := &Report{Results: res, PeerNote: "torch missing", Claims: Claims}
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "gat_forward") || !strings.Contains(rep.Markdown(), "torch missing") {
		t.Errorf("table:\n%s\n%s", b.String(), rep.Markdown())
	}
}

// TestRerunIsStable runs a training step's machine twice after building it and a forward op
// twice: the same compiled machine gives identical forward outputs (Reset between runs).
func TestRerunIsStable(t *testing.T) {
	in, err := NewInputs(Config{N: 200, Deg: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"gcn_forward", "gat_forward", "gatv2_forward", "gin_forward", "sage2_forward"} {
		w, err := Build(in, op)
		if err != nil {
			t.Fatal(err)
		}
		var outs [][]float32
		for k := 0; k < 2; k++ {
			if err := w.Run(); err != nil {
				t.Fatal(err)
			}
			o, _, err := w.Output()
			if err != nil {
				t.Fatal(err)
			}
			outs = append(outs, o)
		}
		for i := range outs[0] {
			if outs[0][i] != outs[1][i] {
				t.Fatalf("%s: element %d differs between runs: %v, %v", op, i, outs[0][i], outs[1][i])
			}
		}
		w.Close()
	}
}

func TestUnknownOp(t *testing.T) {
	in, err := NewInputs(Config{N: 50, Deg: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build(in, "nope"); err == nil || !strings.Contains(err.Error(), "unknown op") {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkOps runs every op on a graph of 20,000 nodes (profile with -cpuprofile).
func BenchmarkOps(b *testing.B) {
	in, err := NewInputs(Config{N: 20000})
	if err != nil {
		b.Fatal(err)
	}
	for _, op := range Ops {
		b.Run(op, func(b *testing.B) {
			w, err := Build(in, op)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if err := w.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
