package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestSignedMessageRoundTrip(t *testing.T) {
	s := newSigner("secret")
	req := &message{rawHeader: json.RawMessage(`{"msg_id":"1","msg_type":"execute_request"}`)}
	frames, err := s.encode([][]byte{[]byte("peer")}, "sess", "execute_reply", req, map[string]any{"status": "ok"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.decode(frames)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.ids) != 1 || string(m.ids[0]) != "peer" || m.header.MsgType != "execute_reply" || m.header.Version != protocolVersion {
		t.Errorf("decoded %+v", m)
	}
	if !bytes.Equal(m.parent, req.rawHeader) || string(m.content) != `{"status":"ok"}` {
		t.Errorf("parent %s, content %s", m.parent, m.content)
	}
	frames[len(frames)-1] = []byte(`{"status":"tampered"}`)
	if _, err := s.decode(frames); err == nil {
		t.Error("a message whose content changed after signing was accepted")
	}
	if _, err := newSigner("other").decode(frames); err == nil {
		t.Error("a message signed with another key was accepted")
	}
	if _, err := s.decode([][]byte{[]byte("x")}); err == nil {
		t.Error("a message without delimiter was accepted")
	}
}

func TestCursorAndWord(t *testing.T) {
	code := "π := 3\nfmt.Pri"
	off := cursorOffset(code, len([]rune(code)))
	if off != len(code) {
		t.Fatalf("offset %d; want %d", off, len(code))
	}
	word, start, qual := wordAt(code, off)
	if word != "Pri" || qual != "fmt" || code[start:] != "Pri" {
		t.Errorf("word %q qualifier %q start %d", word, qual, start)
	}
	if got := isComplete("for i := 0; i < 3; i++ {")["status"]; got != "incomplete" {
		t.Errorf("open loop: %v", got)
	}
	if got := isComplete("x := 1")["status"]; got != "complete" {
		t.Errorf("x := 1: %v", got)
	}
}
