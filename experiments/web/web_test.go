package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestChromium runs two pages in headless Chromium (through chromedriver). First the parity
// page (static/parity.html): on the serving and the full wasm build, in a Web Worker, a search
// trained in Go and loaded from its bytes must give Go's top-10 ids for all 1,000 fixture
// queries, and model files written in Go must embed as in Go. Then the demo: 200 simulated
// feedback rounds in the page must raise the held-out precision@10; it saves a screenshot to
// $GOGNN_WEB_SCREENSHOT (default results/js/demo.png). It needs make js first (the wasm builds
// and js/test/fixtures) and Debian's chromium and chromium-driver, so it runs only with
// GOGNN_WEB_TEST=1 (make js-test).
func TestChromium(t *testing.T) {
	if os.Getenv("GOGNN_WEB_TEST") != "1" {
		t.Skip("set GOGNN_WEB_TEST=1 (make js-test does, after make js) to run the page in headless Chromium")
	}
	driver, err := exec.LookPath("chromedriver")
	if err != nil {
		t.Fatal("chromedriver not found: install Debian's chromium and chromium-driver")
	}
	h, err := handler("../../js")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	port := freePort(t)
	cmd := exec.Command(driver, fmt.Sprintf("--port=%d", port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	wd := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitReady(t, wd+"/status")

	profile := t.TempDir()
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{"binary": "/usr/bin/chromium", "args": []string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + profile, "--window-size=1100,800",
		}},
	}}}
	var sess struct {
		SessionID string `json:"sessionId"`
	}
	call(t, "POST", wd+"/session", caps, &sess)
	s := wd + "/session/" + sess.SessionID
	defer call(t, "DELETE", s, nil, nil)
	call(t, "POST", s+"/url", map[string]any{"url": srv.URL + "/parity.html"}, nil)
	var parity struct {
		Done    bool    `json:"done"`
		Error   string  `json:"error"`
		Seconds float64 `json:"seconds"`
		Runs    []struct {
			Wasm      string             `json:"wasm"`
			Steps     int                `json:"steps"`
			Queries   int                `json:"queries"`
			K         int                `json:"k"`
			Differ    int                `json:"differ"`
			GoKernels string             `json:"goKernels"`
			Models    map[string]float64 `json:"models"`
		} `json:"runs"`
	}
	poll(t, s, "window.parityResult", 2*time.Minute, &parity)
	if parity.Error != "" {
		t.Fatalf("the parity page failed: %s", parity.Error)
	}
	t.Logf("parity page: %.1f s in the page", parity.Seconds)
	if len(parity.Runs) != 2 {
		t.Fatalf("the parity page ran %d wasm builds, want 2 (serve, full)", len(parity.Runs))
	}
	for _, r := range parity.Runs {
		t.Logf("parity, %s wasm: %d of %d queries' top-%d differ from Go's (Go's kernels %s); largest model output differences %v", r.Wasm, r.Differ, r.Queries, r.K, r.GoKernels, r.Models)
		if r.Steps == 0 || r.Queries != 1000 || r.Differ != 0 {
			t.Errorf("%s wasm: %d of %d queries' top-%d differ from Go's (index trained for %d steps); want 0 of 1000 on a trained index", r.Wasm, r.Differ, r.Queries, r.K, r.Steps)
		}
		if len(r.Models) != 3 {
			t.Errorf("%s wasm: %d model kinds checked, want 3", r.Wasm, len(r.Models))
		}
		for kind, worst := range r.Models {
			if !(worst < 1e-4) {
				t.Errorf("%s wasm: the %s model's outputs differ from Go's by up to %v", r.Wasm, kind, worst)
			}
		}
	}

	call(t, "POST", s+"/url", map[string]any{"url": srv.URL + "/?auto=200"}, nil)
	var res struct {
		Done    bool   `json:"done"`
		Error   string `json:"error"`
		Backend string `json:"backend"`
		History []struct {
			Round     int     `json:"round"`
			Precision float64 `json:"precision"`
		} `json:"history"`
	}
	poll(t, s, "window.demoResult", 8*time.Minute, &res)
	if res.Error != "" {
		t.Fatalf("the page failed: %s", res.Error)
	}
	var shot struct {
		Value string `json:"value"`
	}
	call(t, "GET", s+"/screenshot", nil, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Value)
	if err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("GOGNN_WEB_SCREENSHOT")
	if out == "" {
		out = "../../results/js/demo.png"
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	h0, h1 := res.History[0], res.History[len(res.History)-1]
	t.Logf("backend %s: precision@10 %.3f at round %d, %.3f at round %d; screenshot %s", res.Backend, h0.Precision, h0.Round, h1.Precision, h1.Round, out)
	if h1.Round != 200 || h1.Precision < h0.Precision+0.03 {
		t.Fatalf("precision@10 went from %.3f to %.3f over %d rounds: want a rise of at least 0.03", h0.Precision, h1.Precision, h1.Round)
	}
}

// poll evaluates the page's variable (an object with a done field) in session s every second
// until it is done, and decodes it into out (a pointer to a struct with Done bool).
func poll(t *testing.T, s, variable string, limit time.Duration, out any) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var v struct {
			Value json.RawMessage `json:"value"`
		}
		call(t, "POST", s+"/execute/sync", map[string]any{"script": "return " + variable + " || {done: false}", "args": []any{}}, &v)
		var d struct {
			Done bool `json:"done"`
		}
		if err := json.Unmarshal(v.Value, &d); err != nil {
			t.Fatal(err)
		}
		if d.Done {
			if err := json.Unmarshal(v.Value, out); err != nil {
				t.Fatal(err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not done after %v", variable, limit)
		}
		time.Sleep(time.Second)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitReady(t *testing.T, url string) {
	for i := 0; i < 100; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("chromedriver did not start")
}

// call makes one WebDriver request and decodes the reply into out.
func call(t *testing.T, method, url string, body, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webdriver %s %s: %s: %s", method, url, resp.Status, b)
	}
	if out == nil {
		return
	}
	if sess, ok := out.(*struct {
		SessionID string `json:"sessionId"`
	}); ok {
		var v struct {
			Value struct {
				SessionID string `json:"sessionId"`
			} `json:"value"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		sess.SessionID = v.Value.SessionID
		return
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatal(err)
	}
}
