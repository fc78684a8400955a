package atomicfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gnnlab/gognn/internal/atomicfile"
)

// WriteBytes writes through a temporary file renamed into place: a reader sees the old file or
// the new one, never half of it.
func Example() {
	dir, err := os.MkdirTemp("", "atomicfile")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "results.json")
	if err := atomicfile.WriteBytes(path, []byte(`{"acc": 0.81}`+"\n"), 0o644); err != nil {
		panic(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	fmt.Print(string(data))
	// Output:
	// {"acc": 0.81}
}
