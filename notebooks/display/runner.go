package display

import (
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"strconv"
	"sync"
)

// The runner protocol. The runner (go run ./notebooks/run) builds a notebook's code cells into one
// program and runs it with two environment variables set:
//
//   - EnvRecords, the path of a file to which each shown bundle is appended as one JSON Record a
//     line;
//   - EnvToken, a random token. Before the statements of code cell n the program writes
//     MarkerPrefix(token)+"c"+n+"\x00" to standard output and standard error, and after appending
//     record i it writes MarkerPrefix(token)+"d"+i+"\x00" to standard output, so the runner can
//     split both streams by cell and put each bundle where it was shown among the printed text.
//
// Standard output otherwise holds exactly what the cells print.
const (
	EnvRecords = "GOGNN_NOTEBOOK_DISPLAY"
	EnvToken   = "GOGNN_NOTEBOOK_TOKEN"
)

// Record is one shown bundle as the runner reads it.
type Record struct {
	Index      int     `json:"index"`
	OutputType string  `json:"output_type"` // "display_data", or "execute_result" for a cell's value
	Data       MIMEMap `json:"data"`
	Metadata   MIMEMap `json:"metadata"`
}

// Marker kinds after MarkerPrefix.
const (
	MarkerCell    = 'c'
	MarkerDisplay = 'd'
)

// MarkerPrefix starts every marker the program writes for the runner with this token.
func MarkerPrefix(token string) string { return "\x00gognn-notebook:" + token + ":" }

// shownKey marks, in Data.Transient, a bundle that its constructor already showed and that no
// Display has claimed yet.
const shownKey = "gognn/shown"

var runner struct {
	once  sync.Once
	mu    sync.Mutex
	path  string
	token string
	f     *os.File
	n     int
}

func active() bool {
	runner.once.Do(func() {
		runner.path = os.Getenv(EnvRecords)
		runner.token = os.Getenv(EnvToken)
	})
	return runner.path != "" && runner.token != ""
}

// shown shows a bundle that a constructor just made, when running under the runner.
func shown(d Data) Data {
	if !active() {
		return d
	}
	emit("display_data", d)
	if d.Transient == nil {
		d.Transient = MIMEMap{}
	}
	d.Transient[shownKey] = true
	return d
}

// Display shows d, as the Display function of gophernotes does; notebooks call it through the
// Display function the runner declares. A bundle that its constructor already showed is not shown
// again by the first Display of it. Outside the runner Display returns an error.
func Display(d Data) error {
	if !active() {
		return errors.New("display: cannot display: not running under the notebook runner (go run ./notebooks/run)")
	}
	if claim(d) {
		return nil
	}
	emit("display_data", d)
	return nil
}

func claim(d Data) bool {
	if v, ok := d.Transient[shownKey].(bool); ok && v {
		delete(d.Transient, shownKey)
		return true
	}
	return false
}

// Result shows the value of a cell's last line, as gophernotes shows a cell's value: a Data bundle
// or an image.Image as it is, anything else as text; nothing when every value is nil. The runner's
// generated program calls it; notebooks do not.
func Result(vals ...any) {
	if !active() {
		return
	}
	var obj any
	nils := 0
	for _, v := range vals {
		switch v.(type) {
		case nil:
			nils++
		case Data, image.Image:
			obj = v
		}
	}
	if nils == len(vals) {
		return
	}
	if obj != nil && nils == len(vals)-1 {
		switch v := obj.(type) {
		case Data:
			if !claim(v) {
				emit("execute_result", v)
			}
			return
		case image.Image:
			emit("execute_result", imageData(v))
			return
		}
	}
	emit("execute_result", Data{Data: MIMEMap{MIMETypeText: fmt.Sprint(vals...)}})
}

// BeginCell marks the start of code cell n (1-based) on standard output and standard error. The
// runner's generated program calls it; notebooks do not.
func BeginCell(n int) {
	if !active() {
		return
	}
	m := MarkerPrefix(runner.token) + string(rune(MarkerCell)) + strconv.Itoa(n) + "\x00"
	runner.mu.Lock()
	defer runner.mu.Unlock()
	os.Stdout.WriteString(m)
	os.Stderr.WriteString(m)
}

// emit appends d to the records file and marks its place on standard output. A bundle that cannot
// be written fails the program: a notebook that silently loses a figure must not pass.
func emit(outputType string, d Data) {
	rec := Record{OutputType: outputType, Data: MIMEMap{}, Metadata: d.Metadata}
	for k, v := range d.Data {
		rec.Data[k] = normalise(k, v)
	}
	if rec.Metadata == nil {
		rec.Metadata = MIMEMap{}
	}
	runner.mu.Lock()
	defer runner.mu.Unlock()
	rec.Index = runner.n
	line, err := json.Marshal(rec)
	if err != nil {
		panic(fmt.Errorf("display: encoding a %v bundle: %w", keys(d.Data), err))
	}
	if runner.f == nil {
		runner.f, err = os.OpenFile(runner.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			panic(fmt.Errorf("display: opening the runner's record file: %w", err))
		}
	}
	if _, err := runner.f.Write(append(line, '\n')); err != nil {
		panic(fmt.Errorf("display: writing to the runner's record file: %w", err))
	}
	os.Stdout.WriteString(MarkerPrefix(runner.token) + string(rune(MarkerDisplay)) + strconv.Itoa(runner.n) + "\x00")
	runner.n++
}

// normalise makes text formats strings, as Jupyter stores them; binary data stays []byte, which
// encodes as base64.
func normalise(mimeType string, v any) any {
	if mimeType == MIMETypeJSON || !isText(mimeType) {
		return v
	}
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return fmt.Sprint(v)
}

func keys(m MIMEMap) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
