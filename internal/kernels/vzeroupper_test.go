package kernels

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVZEROUPPER fails when a generated function that touches YMM or ZMM registers can return
// without VZEROUPPER, which would slow down the SSE code that runs after it.
func TestVZEROUPPER(t *testing.T) {
	files, err := filepath.Glob("*_amd64.s")
	if err != nil || len(files) == 0 {
		t.Fatalf("no assembly files: %v", err)
	}
	wide := regexp.MustCompile(`\b[YZ]\d+\b`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, fn := range strings.Split(string(src), "\nTEXT ")[1:] {
			name, _, _ := strings.Cut(fn, "(")
			if !wide.MatchString(fn) {
				continue
			}
			prev := ""
			for _, line := range strings.Split(fn, "\n") {
				line = strings.TrimSpace(line)
				if line == "" || strings.HasSuffix(line, ":") {
					continue // labels do not execute
				}
				if line == "RET" && prev != "VZEROUPPER" {
					t.Errorf("%s: %s returns without VZEROUPPER (after %q)", f, name, prev)
				}
				prev = line
			}
		}
	}
}
