package engine

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestServeBuildLinksNoGorgonia keeps the training stack out of the serving wasm build
// (gognn-serve.wasm): with the tag gognn_serve, cmd/gognn-wasm must not depend on Gorgonia.
func TestServeBuildLinksNoGorgonia(t *testing.T) {
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("needs the go command")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	cmd := exec.Command(goCmd, "list", "-deps", "-tags", "gognn_serve", "../cmd/gognn-wasm")
	cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var deps []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "gorgonia.org/") || p == "github.com/gnnlab/gognn/models" || p == "github.com/gnnlab/gognn/nn" {
			deps = append(deps, p)
		}
	}
	if len(deps) > 0 {
		t.Fatalf("the serving build links the training stack: %v", deps)
	}
	if !strings.Contains(string(out), "github.com/gnnlab/gognn/infer\n") {
		t.Fatal("the serving build does not link package infer: models would not load")
	}
}
