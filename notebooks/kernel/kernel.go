package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"

	"github.com/gnnlab/gognn/notebooks/display"
)

// kernel holds the five channels and the session.
type kernel struct {
	ctx     context.Context
	stop    context.CancelFunc // ends the kernel
	conn    connectionInfo
	sign    *signer
	id      string // the kernel's session id in the headers it sends
	sess    *session
	shell   zmq4.Socket
	control zmq4.Socket
	stdin   zmq4.Socket
	iopub   zmq4.Socket
	hb      zmq4.Socket

	sendMu sync.Mutex // one send at a time on shell, control and iopub

	inputs chan *message // input_reply messages from the stdin channel
	askMu  sync.Mutex    // one input_request at a time

	runMu     sync.Mutex
	cancelRun context.CancelFunc // cancels the cell that is running, nil when none
	running   sync.WaitGroup     // the cell that is running
	count     int                // execution count
}

func newKernel(ctx context.Context, conn connectionInfo, sess *session) (*kernel, error) {
	ctx, stop := context.WithCancel(ctx)
	k := &kernel{ctx: ctx, stop: stop, conn: conn, sign: newSigner(conn.Key), id: newID(), sess: sess,
		inputs: make(chan *message, 1)}
	k.shell = zmq4.NewRouter(ctx, zmq4.WithID(zmq4.SocketIdentity("shell")))
	k.control = zmq4.NewRouter(ctx, zmq4.WithID(zmq4.SocketIdentity("control")))
	k.stdin = zmq4.NewRouter(ctx, zmq4.WithID(zmq4.SocketIdentity("stdin")))
	k.iopub = zmq4.NewPub(ctx)
	k.hb = zmq4.NewRouter(ctx, zmq4.WithID(zmq4.SocketIdentity("hb")))
	for _, s := range []struct {
		sock zmq4.Socket
		port int
		name string
	}{{k.shell, conn.ShellPort, "shell"}, {k.control, conn.ControlPort, "control"}, {k.stdin, conn.StdinPort, "stdin"},
		{k.iopub, conn.IOPubPort, "iopub"}, {k.hb, conn.HBPort, "heartbeat"}} {
		if err := s.sock.Listen(conn.endpoint(s.port)); err != nil {
			k.close()
			return nil, fmt.Errorf("kernel: listening for the %s channel on %s: %w", s.name, conn.endpoint(s.port), err)
		}
	}
	return k, nil
}

func (k *kernel) close() {
	for _, s := range []zmq4.Socket{k.shell, k.control, k.stdin, k.iopub, k.hb} {
		if s != nil {
			s.Close()
		}
	}
}

// serve runs the channels until a shutdown request or the end of ctx.
func (k *kernel) serve() {
	defer k.stopRunning()
	k.publish(nil, "status", map[string]any{"execution_state": "starting"})
	go k.heartbeat()
	go k.loop(k.stdin, k.handleStdin)
	go k.loop(k.control, k.handleControl)
	go k.loop(k.shell, k.handleShell)
	<-k.ctx.Done()
}

// heartbeat echoes every ping.
func (k *kernel) heartbeat() {
	for {
		msg, err := k.hb.Recv()
		if err != nil {
			if k.ctx.Err() == nil {
				log.Printf("kernel: heartbeat: %v", err)
			}
			return
		}
		k.hb.Send(msg) // only this goroutine sends on hb
	}
}

// loop reads the messages of a channel and hands them to handle, one at a time, in order.
func (k *kernel) loop(sock zmq4.Socket, handle func(*message)) {
	for {
		raw, err := sock.Recv()
		if err != nil {
			if k.ctx.Err() == nil {
				log.Printf("kernel: receiving: %v", err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return
		}
		m, err := k.sign.decode(raw.Frames)
		if err != nil {
			log.Printf("kernel: dropped a message: %v", err)
			continue
		}
		handle(m)
	}
}

// reply sends a reply to m on sock.
func (k *kernel) reply(sock zmq4.Socket, m *message, msgType string, content any) {
	frames, err := k.sign.encode(m.ids, k.id, msgType, m, content)
	if err != nil {
		log.Printf("kernel: %v", err)
		return
	}
	k.sendMu.Lock()
	defer k.sendMu.Unlock()
	if err := sock.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		log.Printf("kernel: sending %s: %v", msgType, err)
	}
}

// publish sends a message on iopub, in reply to parent (nil for none).
func (k *kernel) publish(parent *message, msgType string, content any) {
	topic := [][]byte{[]byte("kernel." + k.id + "." + msgType)}
	frames, err := k.sign.encode(topic, k.id, msgType, parent, content)
	if err != nil {
		log.Printf("kernel: %v", err)
		return
	}
	k.sendMu.Lock()
	defer k.sendMu.Unlock()
	if err := k.iopub.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		log.Printf("kernel: publishing %s: %v", msgType, err)
	}
}

// busy publishes the busy status for m and returns the function that publishes idle.
func (k *kernel) busy(m *message) func() {
	k.publish(m, "status", map[string]any{"execution_state": "busy"})
	return func() { k.publish(m, "status", map[string]any{"execution_state": "idle"}) }
}

func (k *kernel) handleControl(m *message) {
	defer k.busy(m)()
	switch m.header.MsgType {
	case "interrupt_request":
		k.interrupt()
		k.reply(k.control, m, "interrupt_reply", map[string]any{"status": "ok"})
	case "shutdown_request":
		k.shutdown(k.control, m)
	case "kernel_info_request":
		k.reply(k.control, m, "kernel_info_reply", kernelInfo())
	default:
		log.Printf("kernel: control message %s is not handled", m.header.MsgType)
	}
}

// handleStdin passes an input_reply on to the input_request waiting for it.
func (k *kernel) handleStdin(m *message) {
	if m.header.MsgType != "input_reply" {
		log.Printf("kernel: stdin message %s is not handled", m.header.MsgType)
		return
	}
	select {
	case k.inputs <- m:
	default:
		log.Printf("kernel: an input_reply came with no input_request waiting")
	}
}

// askInput sends an input_request for the execute request m on the stdin channel, to the
// frontend that sent m (its stdin socket has the identity of its shell socket), and returns the
// value of the reply.
func (k *kernel) askInput(ctx context.Context, m *message) (string, error) {
	k.askMu.Lock()
	defer k.askMu.Unlock()
	select { // a reply that came after its request was given up
	case <-k.inputs:
	default:
	}
	k.reply(k.stdin, m, "input_request", map[string]any{"prompt": "", "password": false})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case r := <-k.inputs:
		var c struct {
			Value string `json:"value"`
		}
		if err := json.Unmarshal(r.content, &c); err != nil {
			return "", fmt.Errorf("input_reply: %w", err)
		}
		return c.Value, nil
	}
}

func (k *kernel) handleShell(m *message) {
	defer k.busy(m)()
	switch m.header.MsgType {
	case "kernel_info_request":
		k.reply(k.shell, m, "kernel_info_reply", kernelInfo())
	case "execute_request":
		k.execute(m)
	case "complete_request":
		req := codeRequest(m)
		k.reply(k.shell, m, "complete_reply", complete(k.ctx, k.sess, req.Code, req.CursorPos))
	case "inspect_request":
		req := codeRequest(m)
		k.reply(k.shell, m, "inspect_reply", inspect(k.ctx, k.sess, req.Code, req.CursorPos))
	case "is_complete_request":
		k.reply(k.shell, m, "is_complete_reply", isComplete(codeRequest(m).Code))
	case "history_request":
		k.reply(k.shell, m, "history_reply", map[string]any{"status": "ok", "history": []any{}})
	case "comm_info_request":
		k.reply(k.shell, m, "comm_info_reply", map[string]any{"status": "ok", "comms": map[string]any{}})
	case "shutdown_request":
		k.shutdown(k.shell, m)
	default:
		log.Printf("kernel: shell message %s is not handled", m.header.MsgType)
	}
}

// codeRequest reads the code and cursor of a complete, inspect or is_complete request; a request
// that does not decode reads as empty code.
func codeRequest(m *message) (req struct {
	Code      string `json:"code"`
	CursorPos int    `json:"cursor_pos"`
}) {
	json.Unmarshal(m.content, &req)
	return req
}

func kernelInfo() map[string]any {
	return map[string]any{
		"status":                 "ok",
		"protocol_version":       protocolVersion,
		"implementation":         "gognn",
		"implementation_version": "1",
		"language_info": map[string]any{
			"name":               "go",
			"version":            strings.TrimPrefix(runtime.Version(), "go"),
			"mimetype":           "text/x-go",
			"file_extension":     ".go",
			"pygments_lexer":     "go",
			"codemirror_mode":    "go",
			"nbconvert_exporter": "",
		},
		"banner": "gognn: Go cells built with " + runtime.Version() + " inside github.com/gnnlab/gognn",
		"help_links": []any{
			map[string]any{"text": "Notebooks", "url": "https://github.com/gnnlab/gognn/tree/main/notebooks"},
		},
	}
}

// execute runs an execute_request: the cell's output goes to iopub as it comes.
func (k *kernel) execute(m *message) {
	var req struct {
		Code         string `json:"code"`
		Silent       bool   `json:"silent"`
		StoreHistory *bool  `json:"store_history"`
		AllowStdin   bool   `json:"allow_stdin"`
	}
	if err := json.Unmarshal(m.content, &req); err != nil {
		k.reply(k.shell, m, "execute_reply", map[string]any{"status": "error", "ename": "BadRequest", "evalue": err.Error(), "traceback": []string{err.Error()}, "execution_count": k.count})
		return
	}
	k.count++
	n := k.count
	if !req.Silent {
		k.publish(m, "execute_input", map[string]any{"code": req.Code, "execution_count": n})
	}
	if strings.TrimSpace(req.Code) == "" {
		k.reply(k.shell, m, "execute_reply", map[string]any{"status": "ok", "execution_count": n, "payload": []any{}, "user_expressions": map[string]any{}})
		return
	}
	ctx, cancel := context.WithCancel(k.ctx)
	k.runMu.Lock()
	if k.ctx.Err() != nil { // shutting down: stopRunning may be waiting already
		k.runMu.Unlock()
		cancel()
		return
	}
	k.cancelRun = cancel
	k.running.Add(1)
	k.runMu.Unlock()
	defer k.running.Done()
	out := &iopubSink{k: k, parent: m, count: n, silent: req.Silent, allowStdin: req.AllowStdin}
	err := k.sess.execute(ctx, req.Code, n, out)
	out.flush()
	k.runMu.Lock()
	k.cancelRun = nil
	k.runMu.Unlock()
	cancel()
	if err != nil {
		ename, evalue := "Error", err.Error()
		if ce, ok := err.(*cellError); ok {
			ename, evalue = ce.ename, ce.evalue
		}
		tb := strings.Split(evalue, "\n")
		k.publish(m, "error", map[string]any{"ename": ename, "evalue": evalue, "traceback": tb})
		k.reply(k.shell, m, "execute_reply", map[string]any{"status": "error", "ename": ename, "evalue": evalue, "traceback": tb, "execution_count": n})
		return
	}
	k.reply(k.shell, m, "execute_reply", map[string]any{"status": "ok", "execution_count": n, "payload": []any{}, "user_expressions": map[string]any{}})
}

// interrupt stops the running cell, if any.
func (k *kernel) interrupt() {
	k.runMu.Lock()
	defer k.runMu.Unlock()
	if k.cancelRun != nil {
		k.cancelRun()
	}
}

// stopRunning interrupts the running cell and waits (a few seconds at most) until its processes
// are gone, so that none outlives the kernel.
func (k *kernel) stopRunning() {
	k.interrupt()
	done := make(chan struct{})
	go func() { k.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		log.Printf("kernel: the running cell did not stop within 5 s")
	}
}

func (k *kernel) shutdown(sock zmq4.Socket, m *message) {
	var req struct {
		Restart bool `json:"restart"`
	}
	json.Unmarshal(m.content, &req)
	k.interrupt()
	k.reply(sock, m, "shutdown_reply", map[string]any{"status": "ok", "restart": req.Restart})
	k.publish(m, "shutdown_reply", map[string]any{"status": "ok", "restart": req.Restart})
	// Let the replies leave before the sockets close.
	time.AfterFunc(200*time.Millisecond, k.stop)
}

// iopubSink publishes a cell's output. Stream text is batched for up to 50 ms, so a cell that
// prints many short lines does not send a message per line.
type iopubSink struct {
	k          *kernel
	parent     *message
	count      int
	silent     bool
	allowStdin bool // the frontend takes input_request messages

	mu      sync.Mutex
	pending map[string]*strings.Builder
	timer   *time.Timer
}

func (s *iopubSink) Stream(name, text string) {
	if s.silent {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[string]*strings.Builder{}
	}
	b := s.pending[name]
	if b == nil {
		b = &strings.Builder{}
		s.pending[name] = b
	}
	b.WriteString(text)
	if b.Len() > 1<<16 {
		s.flushLocked()
		return
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(50*time.Millisecond, s.flush)
	}
}

func (s *iopubSink) Display(r display.Record) {
	if s.silent {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
	md := map[string]any(r.Metadata)
	if md == nil {
		md = map[string]any{}
	}
	content := map[string]any{"data": r.Data, "metadata": md}
	if r.OutputType == "execute_result" {
		content["execution_count"] = s.count
		s.k.publish(s.parent, "execute_result", content)
		return
	}
	content["transient"] = map[string]any{}
	s.k.publish(s.parent, "display_data", content)
}

// Input answers a read of standard input that found nothing: with the frontend's input_reply
// when it allows stdin (the output so far is sent first: it holds the prompt), and with io.EOF
// otherwise. The text read is the value and a newline, as a terminal gives a line.
func (s *iopubSink) Input(ctx context.Context) (string, error) {
	if !s.allowStdin {
		return "", io.EOF
	}
	s.flush()
	v, err := s.k.askInput(ctx, s.parent)
	if err != nil {
		return "", err
	}
	return v + "\n", nil
}

func (s *iopubSink) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushLocked()
}

func (s *iopubSink) flushLocked() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	for _, name := range []string{"stdout", "stderr"} {
		if b := s.pending[name]; b != nil && b.Len() > 0 {
			s.k.publish(s.parent, "stream", map[string]any{"name": name, "text": b.String()})
			b.Reset()
		}
	}
}
