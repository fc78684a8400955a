package readme

import (
	"os"
	"strings"
	"testing"
)

// normalise drops indentation and blank lines, so a README block matches the Example it was
// taken from whatever its indentation.
func normalise(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestREADMEBlocksAreExamples fails when a Go code block of README.md is not, line for line, part
// of one of this package's Examples, which go test compiles and runs.
func TestREADMEBlocksAreExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	examples := normalise(string(src))
	blocks := 0
	rest := string(readme)
	for {
		i := strings.Index(rest, "```go\n")
		if i < 0 {
			break
		}
		rest = rest[i+len("```go\n"):]
		j := strings.Index(rest, "```")
		if j < 0 {
			t.Fatal("README.md: a ```go block is not closed")
		}
		block := rest[:j]
		rest = rest[j+3:]
		blocks++
		if !strings.Contains(examples, normalise(block)) {
			t.Errorf("README.md Go block %d is not in internal/readme/readme_test.go:\n%s", blocks, block)
		}
	}
	if blocks == 0 {
		t.Error("README.md has no Go code blocks")
	}
}
