package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesOnlyOnSuccess(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.bin")
	if err := WriteBytes(p, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "first" {
		t.Errorf("file holds %q after a failed write, want the old content", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := WriteBytes(p, []byte("second"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(p)
	if st, _ := os.Stat(p); string(got) != "second" || st.Mode().Perm() != 0o600 {
		t.Errorf("file = %q mode %v, want second 0600", got, st.Mode().Perm())
	}
	if err := WriteBytes(filepath.Join(dir, "missing", "f"), nil, 0o644); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

// TestDirSyncFailure: a failed directory sync is reported (ErrDirSync, with the cause), and the
// new content is in place.
func TestDirSyncFailure(t *testing.T) {
	cause := errors.New("EIO")
	old := syncDir
	syncDir = func(string) error { return cause }
	defer func() { syncDir = old }()
	p := filepath.Join(t.TempDir(), "f.bin")
	err := WriteBytes(p, []byte("new"), 0o644)
	if !errors.Is(err, ErrDirSync) || !errors.Is(err, cause) {
		t.Fatalf("error %v, want ErrDirSync wrapping the cause", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "new" {
		t.Errorf("file holds %q, want the new content", got)
	}
}
