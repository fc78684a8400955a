package persist

import (
	"io"

	"github.com/gnnlab/gognn/internal/atomicfile"
)

// WriteFile writes a framed file (magic, version, body's output, trailer) to path atomically,
// with mode 0644 (see package internal/atomicfile, including what a failed directory sync
// means).
func WriteFile(path, magic string, version uint32, body func(w *Writer) error) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := Frame(w, magic, version, body)
		return err
	})
}
