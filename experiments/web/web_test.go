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

// TestChromium loads the page in headless Chromium (through chromedriver), runs 200 simulated
// feedback rounds in the page and checks that the held-out precision@10 rose; it saves a
// screenshot to $GOGNN_WEB_SCREENSHOT (default results/js/demo.png). It needs make js first and
// Debian's chromium and chromium-driver, so it runs only with GOGNN_WEB_TEST=1 (make js-test).
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
	deadline := time.Now().Add(8 * time.Minute)
	for !res.Done {
		if time.Now().After(deadline) {
			t.Fatal("the page did not finish 200 rounds in 8 minutes")
		}
		time.Sleep(2 * time.Second)
		var v struct {
			Value json.RawMessage `json:"value"`
		}
		call(t, "POST", s+"/execute/sync", map[string]any{"script": "return window.demoResult || {done: false}", "args": []any{}}, &v)
		if err := json.Unmarshal(v.Value, &res); err != nil {
			t.Fatal(err)
		}
	}
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
