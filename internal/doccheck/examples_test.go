// Package doccheck holds a test that fails when a library package of the module has no package
// documentation or does not lead with a runnable Example, so the package docs cannot rot into
// prose that nothing checks.
package doccheck

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// pkgInfo is what the check needs of one directory's package.
type pkgInfo struct {
	name     string // package name of the non-test files
	doc      string // package doc comment
	examples []*doc.Example
}

// readPackage parses the Go files of dir. It returns nil when dir has no non-test Go files.
func readPackage(t *testing.T, dir string) *pkgInfo {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var info *pkgInfo
	var tests []*ast.File
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(n, "_test.go") {
			tests = append(tests, f)
			continue
		}
		if info == nil {
			info = &pkgInfo{name: f.Name.Name}
		}
		if f.Doc != nil && f.Name.Name == info.name {
			info.doc += f.Doc.Text()
		}
	}
	if info != nil {
		info.examples = doc.Examples(tests...)
	}
	return info
}

// leadingExample returns the Example that pkgsite and godoc show first on the package's page,
// the package-level one (Example or Example_suffix), if it is runnable with output.
func leadingExample(exs []*doc.Example) *doc.Example {
	for _, e := range exs {
		if (e.Name == "" || strings.HasPrefix(e.Name, "_")) && e.Output != "" {
			return e
		}
	}
	return nil
}

// TestLibraryPackagesLeadWithARunnableExample walks the module and fails for every non-main
// package without a package doc comment or without a package-level Example (func Example() or
// Example_suffix()) whose // Output: is not empty, which go test compiles, runs and compares.
func TestLibraryPackagesLeadWithARunnableExample(t *testing.T) {
	root := filepath.Join("..", "..")
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		// The go tool skips these too: hidden, _ and testdata directories, other modules.
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		if path != root {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		dirs = append(dirs, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(dirs)
	checked := 0
	for _, dir := range dirs {
		rel, _ := filepath.Rel(root, dir)
		rel = filepath.ToSlash(rel)
		p := readPackage(t, dir)
		if p == nil || p.name == "main" {
			continue
		}
		checked++
		if strings.TrimSpace(p.doc) == "" {
			t.Errorf("%s: package %s has no package doc comment; write one in %s/doc.go", rel, p.name, rel)
		}
		if e := leadingExample(p.examples); e != nil {
			t.Logf("%s: leads with Example%s", rel, e.Name)
			continue
		}
		var names []string
		for _, e := range p.examples {
			names = append(names, "Example"+e.Name)
		}
		t.Errorf("%s: package %s has no package-level Example with output (has %v); add func Example() with an // Output: line to %s/example_test.go", rel, p.name, names, rel)
	}
	if checked < 20 {
		t.Fatalf("checked %d packages, expected the module's 25 or so: is the walk rooted at the module?", checked)
	}
}
