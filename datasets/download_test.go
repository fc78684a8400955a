package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// withSums replaces the table of known SHA-256 sums.
func withSums(sums map[string]string) Option { return func(c *config) { c.sums = sums } }

// fileServer serves name -> content under /data/ and counts the requests.
func fileServer(t *testing.T, files map[string][]byte) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/data/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func named(name string, files map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for s, b := range files {
		out[fileName(name, s)] = b
	}
	return out
}

// listDir returns the names in dir, or nil when it does not exist.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestDownload(t *testing.T) {
	files := named("citeseer", smallCiteSeer("f8").files())
	srv, requests := fileServer(t, files)
	root := t.TempDir()
	dir := filepath.Join(root, "planetoid")

	// Only ind.citeseer.y is present: the other seven are fetched, unverified (no known sums).
	writeFiles(t, root, "citeseer", map[string][]byte{"y": files["ind.citeseer.y"]})
	p, err := LoadPlanetoid("citeseer", Dir(root), BaseURL(srv.URL+"/data/"))
	if err != nil {
		t.Fatal(err)
	}
	if p.NumNodes() != 510 {
		t.Fatalf("%d nodes, want 510", p.NumNodes())
	}
	if got := requests.Load(); got != 7 {
		t.Errorf("%d requests, want 7 (one per missing file)", got)
	}
	var want []string
	for f := range files {
		want = append(want, f)
	}
	slices.Sort(want)
	if got := listDir(t, dir); !slices.Equal(got, want) {
		t.Errorf("directory holds %v, want exactly %v", got, want)
	}
	for f, b := range files {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || string(got) != string(b) {
			t.Errorf("%s: content differs from the server's (%v)", f, err)
		}
	}

	// Everything present: no request, even with downloads allowed.
	if _, err := LoadPlanetoid("citeseer", Dir(root), BaseURL(srv.URL+"/data")); err != nil {
		t.Fatal(err)
	}
	if got := requests.Load(); got != 7 {
		t.Errorf("%d requests after a load with all files present, want still 7", got)
	}
}

// TestDownloadVerified downloads files whose sums are known, as Cora's are.
func TestDownloadVerified(t *testing.T) {
	files := named("citeseer", smallCiteSeer("i4").files())
	sums := map[string]string{}
	for f, b := range files {
		h := sha256.Sum256(b)
		sums[f] = hex.EncodeToString(h[:])
	}
	srv, _ := fileServer(t, files)
	root := t.TempDir()
	if _, err := LoadPlanetoid("citeseer", Dir(root), BaseURL(srv.URL+"/data"), withSums(sums)); err != nil {
		t.Fatal(err)
	}
}

// TestDownloadRealCora serves the real Cora files and checks them against the sums in the code.
func TestDownloadRealCora(t *testing.T) {
	src := filepath.Join(sharedData(t), "planetoid")
	files := map[string][]byte{}
	for _, s := range planetoidSuffixes {
		b, err := os.ReadFile(filepath.Join(src, fileName("cora", s)))
		if err != nil {
			t.Fatal(err)
		}
		files[fileName("cora", s)] = b
	}
	srv, _ := fileServer(t, files)
	p, err := LoadPlanetoid("cora", Dir(t.TempDir()), BaseURL(srv.URL+"/data"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Graph.NumEdges() != 10556 {
		t.Fatalf("graph %v, want 10556 edges", p.Graph)
	}
}

func TestDownloadFailures(t *testing.T) {
	citeseer := named("citeseer", smallCiteSeer("i4").files())
	cases := []struct {
		name    string
		dataset string
		handler http.HandlerFunc
		want    []string
	}{
		{
			name:    "404",
			dataset: "citeseer",
			handler: func(w http.ResponseWriter, r *http.Request) {
				f := filepath.Base(r.URL.Path)
				if f == "ind.citeseer.graph" {
					http.NotFound(w, r)
					return
				}
				w.Write(citeseer[f])
			},
			want: []string{"downloading ind.citeseer.graph into ", "404 Not Found", "by hand from https://github.com/kimiyoung/planetoid", "GNN_DATA or -data"},
		},
		{
			// Content that is not Cora's: the known sums reject it.
			name:    "checksum mismatch",
			dataset: "cora",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte("<html>rate limited</html>"))
			},
			want: []string{"downloading ind.cora.x into ", "SHA-256 of the 25 bytes received is", "want 23cfa55d", "by hand"},
		},
		{
			// The connection drops after part of the body.
			name:    "truncated body",
			dataset: "citeseer",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100000")
				w.Write([]byte("partial"))
			},
			want: []string{"downloading ind.citeseer.x into ", "unexpected EOF"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.handler)
			defer srv.Close()
			root := t.TempDir()
			dir := filepath.Join(root, "planetoid")
			_, err := LoadPlanetoid(c.dataset, Dir(root), BaseURL(srv.URL))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(c.want, dir) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if errors.Is(err, ErrChecksum) != (c.name == "checksum mismatch") {
				t.Errorf("error %v: errors.Is(err, ErrChecksum) = %v", err, !(c.name == "checksum mismatch"))
			}
			// Files fetched whole before the failure may stay; the failed one and every
			// temporary file are gone.
			for _, f := range listDir(t, dir) {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if want, ok := citeseer[f]; !ok || string(b) != string(want) {
					t.Errorf("%s left behind in %s", f, dir)
				}
			}
		})
	}
}

func TestDownloadUnwritableDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses /proc, where no directory can be created")
	}
	// Tests often run as root, for whom permission bits do not stop a write; procfs does.
	root := "/proc/gognn-no-such-dir"
	_, err := LoadPlanetoid("cora", Dir(root), BaseURL("http://127.0.0.1:1"))
	if err == nil || !strings.Contains(err.Error(), "cannot create "+root) || !strings.Contains(err.Error(), "by hand") {
		t.Fatalf("error %v, want it to say the directory cannot be created and how to provide the files", err)
	}
}

func TestDataDirNotADirectory(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "planetoid"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadPlanetoid("cora", Dir(root), BaseURL("http://127.0.0.1:1"))
	if err == nil || !strings.Contains(err.Error(), "cannot look for ind.cora.x in "+filepath.Join(root, "planetoid")) || !strings.Contains(err.Error(), "GNN_DATA") {
		t.Fatalf("error %v, want it to name the file, the directory and the fix", err)
	}
}
