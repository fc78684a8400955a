package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"time"
)

// protocolVersion is the version of the Jupyter messaging protocol the kernel speaks.
const protocolVersion = "5.3"

// connectionInfo is the connection file Jupyter writes and passes to the kernel.
type connectionInfo struct {
	Transport       string `json:"transport"`
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`
	SignatureScheme string `json:"signature_scheme"`
}

func readConnection(path string) (connectionInfo, error) {
	var ci connectionInfo
	data, err := os.ReadFile(path)
	if err != nil {
		return ci, err
	}
	if err := json.Unmarshal(data, &ci); err != nil {
		return ci, fmt.Errorf("connection file %s: %w", path, err)
	}
	if ci.Transport == "" {
		ci.Transport = "tcp"
	}
	if ci.SignatureScheme != "" && ci.SignatureScheme != "hmac-sha256" {
		return ci, fmt.Errorf("connection file %s: signature_scheme %q; the kernel signs with hmac-sha256", path, ci.SignatureScheme)
	}
	return ci, nil
}

func (ci connectionInfo) endpoint(port int) string {
	return fmt.Sprintf("%s://%s:%d", ci.Transport, ci.IP, port)
}

// header is a message header.
type header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// message is one Jupyter message. Received messages keep their raw header as parent for the
// replies; content is decoded by the handler.
type message struct {
	ids       [][]byte // routing identities of the sender (shell, control, stdin)
	header    header
	rawHeader json.RawMessage
	parent    json.RawMessage
	metadata  json.RawMessage
	content   json.RawMessage
}

// delimiter separates routing identities from the signed message.
var delimiter = []byte("<IDS|MSG>")

// signer computes message signatures: HMAC-SHA256 of header, parent header, metadata and content,
// in hex, or "" when the key is empty (signing disabled).
type signer struct{ mac hash.Hash }

func newSigner(key string) *signer {
	if key == "" {
		return &signer{}
	}
	return &signer{mac: hmac.New(sha256.New, []byte(key))}
}

func (s *signer) sign(parts ...[]byte) []byte {
	if s.mac == nil {
		return nil
	}
	s.mac.Reset()
	for _, p := range parts {
		s.mac.Write(p)
	}
	sum := s.mac.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// decode parses the frames of a received message and checks its signature.
func (s *signer) decode(frames [][]byte) (*message, error) {
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], delimiter) {
		i++
	}
	if i == len(frames) || len(frames) < i+6 {
		return nil, errors.New("message without the <IDS|MSG> delimiter and its five parts")
	}
	sig, parts := frames[i+1], frames[i+2:i+6]
	if s.mac != nil && !hmac.Equal(sig, s.sign(parts...)) {
		return nil, errors.New("message with a bad signature")
	}
	m := &message{ids: frames[:i], rawHeader: parts[0], parent: parts[1], metadata: parts[2], content: parts[3]}
	if err := json.Unmarshal(parts[0], &m.header); err != nil {
		return nil, fmt.Errorf("message header: %w", err)
	}
	return m, nil
}

// encode makes the frames of a message of type msgType in reply to parent (nil for none), sent to
// the identities ids.
func (s *signer) encode(ids [][]byte, session, msgType string, parent *message, content any) ([][]byte, error) {
	h, err := json.Marshal(header{
		MsgID: newID(), Session: session, Username: "kernel", MsgType: msgType, Version: protocolVersion,
		Date: time.Now().UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return nil, err
	}
	p := []byte("{}")
	if parent != nil {
		p = parent.rawHeader
	}
	c, err := json.Marshal(content)
	if err != nil {
		return nil, fmt.Errorf("%s content: %w", msgType, err)
	}
	parts := [][]byte{h, p, []byte("{}"), c}
	frames := append([][]byte{}, ids...)
	frames = append(frames, delimiter, s.sign(parts...))
	return append(frames, parts...), nil
}

// newID returns a random UUID (version 4) as message ids are.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
