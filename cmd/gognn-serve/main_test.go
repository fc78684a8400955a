package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gnnlab/gognn/server"
)

// startBinary starts the built command on a free loopback port and returns its address.
func startBinary(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`msg=listening addr=(\S+)`)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, "http://" + a
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the server did not start")
	}
	return nil, ""
}

func post(url string, body any) (int, error) {
	raw, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestKill9: stream adds and feedback, snapshot, keep streaming, kill -9, restart from the
// directory: every add and feedback event acknowledged before the snapshot is there, and the
// index loads and answers.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := filepath.Join(t.TempDir(), "gognn-serve")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cmd, url := startBinary(t, bin, "-dir", dir, "-dim", "16", "-train-every", "200ms")
	rng := rand.New(rand.NewPCG(1, 1))
	vec := func() []float32 {
		v := make([]float32, 16)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	var mu sync.Mutex
	var acked []string
	events := 0
	stream := func(n int) {
		for i := 0; i < n; i++ {
			mu.Lock()
			id := fmt.Sprintf("v%d", len(acked))
			v := vec()
			mu.Unlock()
			code, err := post(url+"/v1/vectors", map[string]any{"vectors": []server.Item{{ID: id, Vector: v}}})
			if err != nil || code != 200 {
				return // killed
			}
			mu.Lock()
			acked = append(acked, id)
			mu.Unlock()
			if len(acked) > 20 {
				fb := server.FeedbackRequest{Query: server.SearchRequest{Vector: v, K: 2}, Shown: []string{acked[0], acked[1]}, Relevant: []bool{true, false}}
				if code, err := post(url+"/v1/feedback", fb); err != nil || code != 202 {
					return
				}
				mu.Lock()
				events++
				mu.Unlock()
			}
		}
	}
	stream(300)
	if code, err := post(url+"/v1/snapshot", nil); err != nil || code != 200 {
		t.Fatalf("snapshot: %d %v", code, err)
	}
	mu.Lock()
	before, eventsBefore := append([]string(nil), acked...), events
	mu.Unlock()
	done := make(chan struct{})
	go func() { stream(100000); close(done) }()
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	<-done
	t.Logf("%d adds and %d feedback events acknowledged before the snapshot, %d adds in all before kill -9", len(before), eventsBefore, len(acked))

	cmd2, url2 := startBinary(t, bin, "-dir", dir)
	defer func() { cmd2.Process.Signal(syscall.SIGTERM); cmd2.Wait() }()
	for _, id := range before {
		resp, err := http.Get(url2 + "/v1/vectors/" + id)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("vector %s acknowledged before the snapshot is lost: %v %v", id, resp.StatusCode, err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(url2 + "/v1/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st server.Stats
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.TotalEvents < int64(eventsBefore) || st.Live < len(before) {
		t.Fatalf("after restart: %+v; want at least %d events and %d vectors", st, eventsBefore, len(before))
	}
	if code, err := post(url2+"/v1/search", server.SearchRequest{Vector: vec(), K: 5}); err != nil || code != 200 {
		t.Fatalf("search after restart: %d %v", code, err)
	}
	// SIGTERM writes a final snapshot that a third start loads.
	cmd2.Process.Signal(syscall.SIGTERM)
	if err := cmd2.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	cur, _ := os.ReadFile(filepath.Join(dir, "CURRENT"))
	cmd3, _ := startBinary(t, bin, "-dir", dir)
	cmd3.Process.Signal(syscall.SIGTERM)
	cmd3.Wait()
	t.Logf("final snapshot %s", bytes.TrimSpace(cur))
}
