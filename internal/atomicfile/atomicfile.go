// Package atomicfile is the module's one atomic file writer: the content goes to a temporary
// file in the destination's directory, is synced, and is renamed over the destination only
// when complete, so a crash never leaves a half-written file behind.
//
// # Durability of the rename
//
// After the rename, Write syncs the directory so that the new name itself survives a crash. If
// that sync fails, Write returns an error wrapping ErrDirSync (and the system's error): the
// file at path then holds the complete new content, but after a crash it may revert to the
// previous file. Callers that promise durability (a snapshot acknowledged to a client) must
// treat it as a failure; callers that only need a complete file may ignore it with
// errors.Is(err, ErrDirSync). A file system that cannot sync directories at all (EINVAL,
// ENOTSUP) is not an error, and on systems without the notion (Windows, js/wasm, wasip1) the
// directory is not synced: there the rename is as durable as the system makes it.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrDirSync is wrapped by the error of a write whose content is in place but whose directory
// could not be synced (see the package comment).
var ErrDirSync = errors.New("directory sync failed: the new file is in place but may revert after a crash")

// Write creates or replaces path with what write produces. On any error before the rename the
// destination is left as it was and the temporary file is removed; an error wrapping ErrDirSync
// comes after the rename.
func Write(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: syncing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("atomicfile: closing %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if derr := syncDir(dir); derr != nil {
		return fmt.Errorf("atomicfile: %s: %w: %w", path, ErrDirSync, derr)
	}
	return nil
}

// WriteBytes is Write for content already in memory.
func WriteBytes(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
