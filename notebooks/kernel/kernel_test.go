package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pythonWithJupyter returns Debian's python3 when it has jupyter_client, or skips the test.
func pythonWithJupyter(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import jupyter_client").Run(); err != nil {
		t.Skipf("jupyter_client is not installed for %s (Debian: apt-get install python3-jupyter-client); the kernel test drives the kernel with it", py)
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH: the kernel builds cells with it")
	}
	return py
}

// installKernel builds the kernel and writes its kernelspec into a new Jupyter data directory,
// which it returns.
func installKernel(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	dir := filepath.Join(data, "kernels", kernelName)
	exe := filepath.Join(t.TempDir(), "gognn-kernel")
	if out, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("building the kernel: %v\n%s", err, out)
	}
	if out, err := exec.Command(exe, "-install", dir, "-root", root).CombinedOutput(); err != nil {
		t.Fatalf("installing the kernelspec: %v\n%s", err, out)
	}
	return data
}

// TestKernelWithJupyterClient drives the kernel with Jupyter's own client (testdata/drive.py):
// output, a compile error naming cell and line and the next cell running, a panic, a cell
// declaring names again, display bundles, interrupt of a long cell, reads of standard input
// (answered through input_request, or end-of-file without allow_stdin), completion, inspection
// and shutdown.
func TestKernelWithJupyterClient(t *testing.T) {
	py := pythonWithJupyter(t)
	data := installKernel(t)
	cmd := exec.Command(py, "testdata/drive.py")
	cmd.Env = append(os.Environ(), "JUPYTER_PATH="+data, "JUPYTER_RUNTIME_DIR="+t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("drive.py: %v\n%s", err, stderr.String())
	}
	var r map[string]map[string]any
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("drive.py printed %q: %v\n%s", out, err, stderr.String())
	}
	t.Logf("%s", out)
	check := func(part, key string, want any) {
		t.Helper()
		got, _ := json.Marshal(r[part][key])
		w, _ := json.Marshal(want)
		if string(got) != string(w) {
			t.Errorf("%s: %s = %s; want %s", part, key, got, w)
		}
	}
	check("kernel_info", "protocol_version", "5.3")
	check("first", "stdout", "hello 41\n")
	check("compile_error", "status", "error")
	check("compile_error", "evalue", "cell 2, line 2:6: undefined: undefinedName")
	check("compile_error", "error_outputs", 1)
	check("after_error", "stdout", "next 42\n")
	check("after_error", "result", []string{"82"})
	check("panic", "ename", "RuntimeError")
	if ev, _ := r["panic"]["evalue"].(string); !strings.HasPrefix(ev, "cell 4: panic: runtime error: index out of range [3] with length 0\n\tat cell 4, line 2") {
		t.Errorf("panic: evalue %q; want the panic at cell 4, line 2", ev)
	}
	check("redeclare", "stdout", "redeclared 42\n")
	check("display", "mimes", [][]string{{"image/png", "text/plain"}, {"text/html", "text/plain"}})
	check("interrupt", "ename", "Interrupted")
	check("interrupt", "woke", false)
	if s, ok := r["interrupt"]["seconds"].(float64); !ok || s > 2 {
		t.Errorf("interrupt: control came back after %v s; want within 2 s", r["interrupt"]["seconds"])
	}
	check("interrupt_message", "ename", "Interrupted")
	if s, ok := r["interrupt_message"]["seconds"].(float64); !ok || s > 2 {
		t.Errorf("interrupt_request: control came back after %v s; want within 2 s", r["interrupt_message"]["seconds"])
	}
	check("after_interrupt", "stdout", "still redeclared\n")
	check("stdin", "stdout", "name? hello \"Ada\\n\"\n")
	check("stdin", "prompts", 1)
	check("stdin_next", "stdout", "Ada from \"Paris\\n\"\n")
	check("stdin_next", "prompts", 1) // the first cell's read is answered again without asking
	check("stdin_denied", "stdout", "no stdin: EOF\n")
	check("stdin_denied", "prompts", 0)
	check("complete", "has_println", true)
	check("complete", "start", 4)
	check("inspect", "found", true)
	check("shutdown", "alive", false)
}
