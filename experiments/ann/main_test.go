package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gnnlab/gognn/hnsw"
	"github.com/gnnlab/gognn/vecio"
)

// TestRun runs the experiment on a small generated set, without the peer, and checks what it
// writes.
func TestRun(t *testing.T) {
	out := t.TempDir()
	o, err := parseArgs([]string{"-n", "2000", "-dim", "16", "-nq", "50", "-ef", "40,10", "-peer=false", "-seed", "3", "-out", out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var stdout strings.Builder
	if err := run(o, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		BuildS  float64 `json:"build_s"`
		Results []struct {
			EF     int      `json:"ef"`
			Recall *float64 `json:"recall_at_10"`
			QPS    float64  `json:"qps"`
		} `json:"results"`
		Peer *json.RawMessage `json:"peer"`
		Env  struct {
			Seed uint64 `json:"seed"`
			Go   string `json:"go"`
		} `json:"env"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("results.json: %v\n%s", err, raw)
	}
	if rep.BuildS <= 0 || rep.Peer != nil || rep.Env.Seed != 3 || rep.Env.Go == "" {
		t.Errorf("build_s %v, peer %v, env %+v", rep.BuildS, rep.Peer, rep.Env)
	}
	if len(rep.Results) != 2 || rep.Results[0].EF != 10 || rep.Results[1].EF != 40 {
		t.Fatalf("results %+v, want ef 10 then 40", rep.Results)
	}
	for _, r := range rep.Results {
		if r.Recall == nil || *r.Recall < 0 || *r.Recall > 1 || r.QPS <= 0 {
			t.Fatalf("ef %d: recall %v, qps %v", r.EF, r.Recall, r.QPS)
		}
	}
	if lo, hi := *rep.Results[0].Recall, *rep.Results[1].Recall; hi < lo || hi < 0.9 {
		t.Errorf("recall@10 %.3f at ef 10, %.3f at ef 40: want growing with ef, and >= 0.9 at 40", lo, hi)
	}
	if st, err := os.Stat(filepath.Join(out, "recall_qps.png")); err != nil || st.Size() == 0 {
		t.Errorf("plot: %v", err)
	}
	if !strings.Contains(stdout.String(), "recall@10") {
		t.Errorf("no table printed:\n%s", stdout.String())
	}
}

func TestArgErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-ef", "10,x"}, `bad -ef list "10,x": "x"`},
		{[]string{"-ef", ""}, "bad -ef list"},
		{[]string{"-ef", "0"}, "bad -ef list"},
		{[]string{"-ef", "10,20,10"}, "ef 10 given twice"},
		{[]string{"-ef", "5,20"}, "ef 5 is below k = 10"},
		{[]string{"-metric", "hamming"}, `-metric "hamming": unknown metric`},
		{[]string{"-base", "b.fvecs"}, "-base and -query go together"},
		{[]string{"-gt", "g.ivecs"}, "-gt needs -base"},
		{[]string{"-base", "b.fvecs", "-query", "q.fvecs", "-n", "5"}, "-n set the generated data"},
		{[]string{"-M", "1"}, "-M 1"},
		{[]string{"-k", "0"}, "-k 0"},
	} {
		if _, err := parseArgs(c.args, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}

// TestFiles reads the data from files: a dimension mismatch is reported, and a matching pair
// with a ground-truth file runs.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	all := vecio.Clustered(520, 8, 5, 1, 1)
	base, queries := all[:500*8], all[500*8:]
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(vecio.WriteFvecs(p("b.fvecs"), base, 8))
	must(vecio.WriteFvecs(p("q.fvecs"), queries, 8))
	must(vecio.WriteFvecs(p("q4.fvecs"), queries, 4))

	o, err := parseArgs([]string{"-base", p("b.fvecs"), "-query", p("q4.fvecs"), "-peer=false", "-out", dir}, io.Discard)
	must(err)
	if err := run(o, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "dimension mismatch") {
		t.Errorf("mismatched dimensions: %v", err)
	}

	gt, err := vecio.GroundTruth(base, queries, 8, 20, hnsw.L2)
	must(err)
	must(vecio.WriteIvecs(p("gt.ivecs"), gt, 20))
	o, err = parseArgs([]string{"-base", p("b.fvecs"), "-query", p("q.fvecs"), "-gt", p("gt.ivecs"), "-k", "5", "-ef", "5,50", "-peer=false", "-out", dir}, io.Discard)
	must(err)
	must(run(o, io.Discard, io.Discard))
	raw, err := os.ReadFile(p("results.json"))
	must(err)
	if !strings.Contains(string(raw), `"recall_at_5": 1`) && !strings.Contains(string(raw), `"recall_at_5":1`) {
		t.Errorf("want recall@5 = 1 at ef 50 on 500 vectors:\n%s", raw)
	}

	must(vecio.WriteIvecs(p("gt3.ivecs"), gt[:20*3], 3))
	o, err = parseArgs([]string{"-base", p("b.fvecs"), "-query", p("q.fvecs"), "-gt", p("gt3.ivecs"), "-peer=false", "-out", dir}, io.Discard)
	must(err)
	if err := run(o, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "at least k = 10") {
		t.Errorf("narrow ground truth: %v", err)
	}
}
