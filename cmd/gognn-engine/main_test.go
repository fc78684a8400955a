package main

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/gnnlab/gognn/engine"
)

func frame(id uint32, body []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))
	b = binary.LittleEndian.AppendUint32(b, id)
	return append(b, body...)
}

// Responses come back in order, each with its request's id; a closed stdin ends the engine.
func TestServe(t *testing.T) {
	var in bytes.Buffer
	in.Write(frame(7, []byte{engine.OpInfo}))
	in.Write(frame(9, []byte{99}))
	var out bytes.Buffer
	if err := serve(engine.New(), &in, &out); err != nil {
		t.Fatal(err)
	}
	b := out.Bytes()
	for _, want := range []struct {
		id     uint32
		status byte
		text   string
	}{{7, engine.StatusOK, `"goos"`}, {9, engine.StatusError, "unknown op 99"}} {
		if len(b) < 9 {
			t.Fatalf("short output %q", b)
		}
		n := binary.LittleEndian.Uint32(b)
		id := binary.LittleEndian.Uint32(b[4:])
		if id != want.id || b[8] != want.status || !strings.Contains(string(b[9:4+n]), want.text) {
			t.Fatalf("response id %d status %d %q, want id %d status %d containing %q", id, b[8], b[9:4+n], want.id, want.status, want.text)
		}
		b = b[4+n:]
	}
}

func TestServeRejectsGarbage(t *testing.T) {
	in := bytes.NewReader([]byte{1, 0, 0, 0, 0})
	if err := serve(engine.New(), in, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "frame of 1 bytes") {
		t.Fatalf("got %v, want a bad-frame error", err)
	}
}
