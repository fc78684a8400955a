package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gnnlab/gognn/search"
)

const dim = 8

func vec(rng *rand.Rand) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

type client struct {
	t     *testing.T
	url   string
	token string
}

// do sends body (JSON-encoded unless []byte) and decodes the JSON answer into out.
func (c *client) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.url+path, rd)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if _, ok := body.([]byte); ok {
		req.Header.Set("Content-Type", BinaryVectors)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

func start(t *testing.T, cfg Config) (*Server, *client) {
	t.Helper()
	if cfg.Dim == 0 {
		cfg.Dim = dim
	}
	sv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(sv.Handler())
	t.Cleanup(func() { ts.Close(); sv.Close() })
	return sv, &client{t: t, url: ts.URL, token: cfg.Token}
}

func items(rng *rand.Rand, prefix string, n int) []Item {
	out := make([]Item, n)
	for i := range out {
		out[i] = Item{ID: fmt.Sprintf("%s%d", prefix, i), Vector: vec(rng)}
	}
	return out
}

// TestRoutes: add (JSON and binary, idempotent), get, search, feedback, train, update, delete,
// stats and metrics.
func TestRoutes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	if _, err := New(Config{Dim: dim, Background: search.Background{Workers: -1}}); err == nil {
		t.Error("New accepted Background.Workers = -1")
	}
	// Training on a low-priority thread, as gognn-serve does.
	sv, c := start(t, Config{Dir: t.TempDir(), Background: search.Background{Workers: 1, LowPriority: true}})
	its := items(rng, "v", 300)
	var ar AddResult
	if code := c.do("POST", "/v1/vectors", map[string]any{"vectors": its[:200]}, &ar); code != 200 || ar.Added != 200 {
		t.Fatalf("add: %d %+v", code, ar)
	}
	if code := c.do("POST", "/v1/vectors", EncodeBinary(nil, its[150:]), &ar); code != 200 || ar.Added != 100 || ar.Existing != 50 {
		t.Fatalf("binary add with 50 retried: %d %+v", code, ar)
	}
	var got Item
	if code := c.do("GET", "/v1/vectors/v7", nil, &got); code != 200 || len(got.Vector) != dim {
		t.Fatalf("get: %d %+v", code, got)
	}
	var sr SearchResponse
	if code := c.do("POST", "/v1/search", SearchRequest{Vector: its[5].Vector, K: 5}, &sr); code != 200 || len(sr.Results) != 5 || sr.Results[0].ID != "v5" {
		t.Fatalf("search: %d %+v", code, sr)
	}
	for i := 0; i < 40; i++ {
		q := SearchRequest{Vector: its[i].Vector, K: 10, Exclude: []string{its[i].ID}}
		c.do("POST", "/v1/search", q, &sr)
		fr := FeedbackRequest{Query: q, EventID: fmt.Sprint("e", i)}
		for j, h := range sr.Results {
			fr.Shown, fr.Relevant = append(fr.Shown, h.ID), append(fr.Relevant, j%2 == 0)
		}
		for retry := 0; retry < 2; retry++ {
			var out map[string]bool
			if code := c.do("POST", "/v1/feedback", fr, &out); code != 202 || out["duplicate"] != (retry == 1) {
				t.Fatalf("feedback %d (retry %d): %d %v", i, retry, code, out)
			}
		}
	}
	var tr struct {
		Steps        int
		ModelVersion int64 `json:"model_version"`
	}
	if code := c.do("POST", "/v1/train", nil, &tr); code != 200 || tr.Steps == 0 || tr.ModelVersion == 0 {
		t.Fatalf("train: %d %+v", code, tr)
	}
	if code := c.do("PUT", "/v1/vectors/v5", map[string]any{"vector": its[6].Vector}, nil); code != 200 {
		t.Fatalf("put: %d", code)
	}
	if code := c.do("PUT", "/v1/vectors/new", map[string]any{"vector": its[6].Vector}, nil); code != 201 {
		t.Fatalf("put of a new id: %d", code)
	}
	if code := c.do("DELETE", "/v1/vectors/v6", nil, nil); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	c.do("POST", "/v1/search", SearchRequest{Vector: its[6].Vector, K: 3, Mode: "plain"}, &sr)
	if sr.Results[0].ID != "v5" && sr.Results[0].ID != "new" || sr.ModelVersion != tr.ModelVersion {
		t.Fatalf("search after put and delete: %+v", sr)
	}
	var st Stats
	c.do("GET", "/v1/stats", nil, &st)
	if st.Live != 300 || st.TotalEvents != 40 || st.Deleted != 1 {
		t.Fatalf("stats: %+v", st)
	}
	resp, err := http.Get(c.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`gognn_request_duration_seconds_bucket{route="POST /v1/search",le="+Inf"}`, "gognn_index_vectors 300", "gognn_model_version " + fmt.Sprint(tr.ModelVersion), "gognn_qps"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// A snapshot, then a server started from it answers the same.
	if code := c.do("POST", "/v1/snapshot", nil, nil); code != 200 {
		t.Fatalf("snapshot: %d", code)
	}
	sv2, c2 := start(t, Config{Dir: sv.cfg.Dir})
	var sr2 SearchResponse
	q := SearchRequest{Vector: its[9].Vector, K: 10}
	c.do("POST", "/v1/search", q, &sr)
	c2.do("POST", "/v1/search", q, &sr2)
	if fmt.Sprint(sr) != fmt.Sprint(sr2) || sv2.Stats().Live != 300 {
		t.Fatalf("restarted from the snapshot: %+v, want %+v", sr2, sr)
	}
	// The event ids acknowledged before the snapshot are remembered after the restart.
	fq := SearchRequest{Vector: its[0].Vector, K: 10}
	for _, ev := range []string{"e0", "e39"} {
		var out map[string]bool
		fr := FeedbackRequest{Query: fq, Shown: []string{"v1", "v2"}, Relevant: []bool{true, false}, EventID: ev}
		if code := c2.do("POST", "/v1/feedback", fr, &out); code != 202 || !out["duplicate"] {
			t.Errorf("event %s retried after the restart: %d %v, want a duplicate", ev, code, out)
		}
	}
	if st := sv2.Stats(); st.TotalEvents != 40 {
		t.Errorf("after retrying acknowledged events: %d events, want 40", st.TotalEvents)
	}
}

// TestDedup: the event-id set keeps the newest cap ids, in order, and forgets removed ones.
func TestDedup(t *testing.T) {
	d := dedup{cap: 3}
	for _, id := range []string{"a", "b", "c"} {
		if !d.add(id) {
			t.Fatalf("%s new: reported seen", id)
		}
	}
	if d.add("b") {
		t.Error("b again: reported new")
	}
	d.remove("b")
	if got := fmt.Sprint(d.ordered()); got != "[a c]" {
		t.Errorf("after remove: %s", got)
	}
	d.add("d") // evicts a
	d.add("e") // takes b's freed slot
	if got := fmt.Sprint(d.ordered()); got != "[c d e]" {
		t.Errorf("after eviction: %s, want [c d e]", got)
	}
	if !d.add("a") || d.add("d") {
		t.Error("a evicted should be new, d remembered")
	}
	if got := fmt.Sprint(d.ordered()); got != "[d e a]" {
		t.Errorf("%s, want [d e a]", got)
	}
}

// TestBatchRoutes: a batch PUT (JSON and binary) replaces present ids and adds absent ones, a
// batch delete removes every id, and a bad batch changes nothing.
func TestBatchRoutes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sv, c := start(t, Config{MaxBatch: 50})
	its := items(rng, "v", 100)
	for lo := 0; lo < 100; lo += 50 {
		if code := c.do("POST", "/v1/vectors", map[string]any{"vectors": its[lo : lo+50]}, nil); code != 200 {
			t.Fatal(code)
		}
	}
	// v0..v9 get new vectors, n0..n4 are new.
	put := append(items(rng, "v", 10), items(rng, "n", 5)...)
	var pr PutResult
	if code := c.do("PUT", "/v1/vectors", map[string]any{"vectors": put[:8]}, &pr); code != 200 || pr.Updated != 8 || pr.Created != 0 {
		t.Fatalf("batch put: %d %+v", code, pr)
	}
	if code := c.do("PUT", "/v1/vectors", EncodeBinary(nil, put[8:]), &pr); code != 200 || pr.Updated != 2 || pr.Created != 5 {
		t.Fatalf("binary batch put: %d %+v", code, pr)
	}
	for _, it := range put {
		var sr SearchResponse
		if code := c.do("POST", "/v1/search", SearchRequest{Vector: it.Vector, K: 1, Mode: "plain"}, &sr); code != 200 || sr.Results[0].ID != it.ID {
			t.Fatalf("search for the put vector of %s: %d %+v", it.ID, code, sr)
		}
	}
	var del map[string]int
	gone := []string{"v20", "v21", "n0", "v3"}
	if code := c.do("POST", "/v1/vectors/delete", map[string]any{"ids": gone}, &del); code != 200 || del["deleted"] != 4 {
		t.Fatalf("batch delete: %d %v", code, del)
	}
	for _, id := range gone {
		if code := c.do("GET", "/v1/vectors/"+id, nil, nil); code != 404 {
			t.Errorf("get of deleted %s: %d", id, code)
		}
	}
	before := sv.Stats()
	for _, tc := range []struct {
		name, method, path string
		body               any
		code               int
		want               string
	}{
		{"delete unknown", "POST", "/v1/vectors/delete", map[string]any{"ids": []string{"v30", "v20"}}, 404, `ids[1]: no vector with id "v20"`},
		{"delete twice", "POST", "/v1/vectors/delete", map[string]any{"ids": []string{"v30", "v30"}}, 400, "listed twice"},
		{"delete none", "POST", "/v1/vectors/delete", map[string]any{"ids": []string{}}, 400, "no ids"},
		{"delete too many", "POST", "/v1/vectors/delete", map[string]any{"ids": make([]string, 51)}, 413, "51 ids"},
		{"put wrong dimension", "PUT", "/v1/vectors", map[string]any{"vectors": []Item{put[1], {ID: "v40", Vector: put[0].Vector[:3]}}}, 400, "dimension 3"},
		{"put twice", "PUT", "/v1/vectors", map[string]any{"vectors": []Item{put[1], put[1]}}, 400, "listed twice"},
		{"put too many", "PUT", "/v1/vectors", EncodeBinary(nil, items(rng, "b", 51)), 413, "count 51"},
	} {
		var out map[string]string
		if code := c.do(tc.method, tc.path, tc.body, &out); code != tc.code || !strings.Contains(out["error"], tc.want) {
			t.Errorf("%s: %d %q, want %d with %q", tc.name, code, out["error"], tc.code, tc.want)
		}
	}
	if after := sv.Stats(); after.Live != before.Live || after.Len != before.Len || after.Live != 101 {
		t.Errorf("refused batches changed the index: %+v, before %+v", after, before)
	}
	if v, _ := sv.Get("v1"); !sameDirection(v, put[1].Vector) {
		t.Error("a refused put changed v1")
	}
}

// sameDirection reports whether a and b are equal up to a positive factor (within float32).
func sameDirection(a, b []float32) bool {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab/math.Sqrt(aa*bb) > 1-1e-6
}

// TestBadRequests: each bad request is a clear 4xx and leaves the index as it was.
func TestBadRequests(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sv, c := start(t, Config{Token: "s3cret", MaxBody: 1 << 16, MaxBatch: 100})
	its := items(rng, "v", 50)
	if code := c.do("POST", "/v1/vectors", map[string]any{"vectors": its}, nil); code != 200 {
		t.Fatal(code)
	}
	nan := vec(rng)
	nan[3] = float32(math.NaN())
	q := SearchRequest{Vector: its[0].Vector, K: 10}
	wrongDim := Item{ID: "x", Vector: its[0].Vector[:dim-1]}
	cases := []struct {
		name, method, path string
		body               any
		code               int
		want               string
	}{
		{"malformed JSON", "POST", "/v1/vectors", `{"vectors": [`, 400, "malformed JSON"},
		{"unknown field", "POST", "/v1/search", `{"vector": [1], "kk": 3}`, 400, "unknown field"},
		{"wrong dimension", "POST", "/v1/vectors", map[string]any{"vectors": []Item{wrongDim}}, 400, "dimension 7"},
		{"NaN in binary", "POST", "/v1/vectors", EncodeBinary(nil, []Item{{ID: "n", Vector: nan}}), 400, "NaN"},
		{"binary wrong dimension", "POST", "/v1/vectors", EncodeBinary(nil, []Item{wrongDim}), 400, "dimension 7"},
		{"binary truncated", "POST", "/v1/vectors", EncodeBinary(nil, its[:2])[:40], 400, "truncated"},
		{"zero vector", "POST", "/v1/search", SearchRequest{Vector: make([]float32, dim)}, 400, "zero vector"},
		{"huge body", "POST", "/v1/vectors", map[string]any{"vectors": items(rng, "h", 2000)}, 413, "larger than"},
		{"batch too large", "POST", "/v1/vectors", EncodeBinary(nil, items(rng, "b", 101)), 413, "count 101"},
		{"k too large", "POST", "/v1/search", SearchRequest{Vector: q.Vector, K: 5000}, 400, "k = 5000"},
		{"ef too large", "POST", "/v1/search", SearchRequest{Vector: q.Vector, K: 10, Ef: 1 << 20}, 400, "ef = 1048576"},
		{"bad mode", "POST", "/v1/search", SearchRequest{Vector: q.Vector, Mode: "fast"}, 400, "mode"},
		{"duplicate ids", "POST", "/v1/vectors", map[string]any{"vectors": []Item{its[0], its[0]}}, 400, "listed twice"},
		{"id with another vector", "POST", "/v1/vectors", map[string]any{"vectors": []Item{{ID: "v1", Vector: its[2].Vector}}}, 409, "exists"},
		{"unknown id delete", "DELETE", "/v1/vectors/nope", nil, 404, "nope"},
		{"unknown id get", "GET", "/v1/vectors/nope", nil, 404, "nope"},
		{"unknown shown id", "POST", "/v1/feedback", FeedbackRequest{Query: q, Shown: []string{"nope"}, Relevant: []bool{true}}, 404, "nope"},
		{"judgements mismatch", "POST", "/v1/feedback", FeedbackRequest{Query: q, Shown: []string{"v1"}}, 400, "judgements"},
	}
	for _, tc := range cases {
		var out map[string]string
		if code := c.do(tc.method, tc.path, tc.body, &out); code != tc.code || !strings.Contains(out["error"], tc.want) {
			t.Errorf("%s: %d %q, want %d with %q", tc.name, code, out["error"], tc.code, tc.want)
		}
	}
	wrong := &client{t: t, url: c.url, token: "wrong"}
	var out map[string]string
	if code := wrong.do("POST", "/v1/vectors", map[string]any{"vectors": items(rng, "w", 3)}, &out); code != 401 || !strings.Contains(out["error"], "token") {
		t.Errorf("wrong token: %d %v", code, out)
	}
	none := &client{t: t, url: c.url}
	if code := none.do("DELETE", "/v1/vectors/v1", nil, &out); code != 401 {
		t.Errorf("no token: %d", code)
	}
	if resp, err := http.Get(c.url + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz without token: %v %v", resp, err)
	}
	if st := sv.Stats(); st.Live != 50 || st.Len != 50 || st.TotalEvents != 0 {
		t.Errorf("bad requests changed the index: %+v", st)
	}
}
