package modelfile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/gnnlab/gognn/internal/persist"
)

// Read reads and checks the model file at path (see the package comment for what is checked)
// and returns its description and every tensor as float32, dequantised, by name. It returns
// no values unless the whole file is valid.
func Read(path string) (*File, map[string][]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("modelfile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("modelfile: %w", err)
	}
	return readFrom(path, bufio.NewReaderSize(f, 1<<16), st.Size())
}

// ReadFrom reads a model file from r, to its end, and checks and returns it as Read does, with
// the same errors for the same content.
func ReadFrom(r io.Reader) (*File, map[string][]float32, error) {
	if br, ok := r.(*bytes.Reader); ok {
		return readFrom("stream", br, int64(br.Len()))
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("modelfile: ReadFrom: %w", err)
	}
	return readFrom("stream", bytes.NewReader(data), int64(len(data)))
}

// readFrom is Read of a file of the given size read from r.
func readFrom(path string, r io.Reader, size int64) (*File, map[string][]float32, error) {
	readErr := func(err error) error {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("modelfile: %s: %w", path, &persist.TruncatedError{What: "the file, which shrank while reading", Need: size})
		}
		return fmt.Errorf("modelfile: %s: %w", path, err)
	}

	prefix := make([]byte, prefixSize)
	if _, err := io.ReadFull(r, prefix[:min(size, prefixSize)]); err != nil {
		return nil, nil, readErr(err)
	}
	hlen, crc, err := parsePrefix(path, prefix, size)
	if err != nil {
		return nil, nil, err
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, nil, readErr(err)
	}
	file, err := parseHeader(path, hdr, crc, size)
	if err != nil {
		return nil, nil, err
	}

	values := make(map[string][]float32, len(file.Tensors))
	pos := prefixSize + hlen
	var buf []byte
	for _, t := range file.Tensors {
		// parseHeader checked the offsets: in order, within the file.
		n := t.Offset - pos + t.Length
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, nil, readErr(err)
		}
		pad, data := buf[:t.Offset-pos], buf[t.Offset-pos:]
		if err := checkTensor(path, t, pad, data); err != nil {
			return nil, nil, err
		}
		values[t.Name] = decode(t, data)
		pos = t.Offset + t.Length
	}
	return file, values, nil
}
