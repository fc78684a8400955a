package display

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// underRunner points the package at a fresh record file, as the runner does, and returns a
// function that stops capturing standard output and returns the records and markers written.
func underRunner(t *testing.T) func() ([]Record, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "display.jsonl")
	t.Setenv(EnvRecords, path)
	t.Setenv(EnvToken, "tok")
	resetRunner()
	t.Cleanup(resetRunner)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	er, ew, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	savedOut, savedErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, ew
	var out, errOut bytes.Buffer
	done := make(chan struct{}, 2)
	go func() { io.Copy(&out, r); done <- struct{}{} }()
	go func() { io.Copy(&errOut, er); done <- struct{}{} }()
	return func() ([]Record, string) {
		os.Stdout, os.Stderr = savedOut, savedErr
		w.Close()
		ew.Close()
		<-done
		<-done
		// Standard error carries only the cell markers.
		if e := errOut.String(); strings.ReplaceAll(e, "\x00gognn-notebook:tok:c1\x00", "") != "" {
			t.Errorf("stderr %q", e)
		}
		if runner.f != nil {
			runner.f.Close()
		}
		f, err := os.Open(path)
		if os.IsNotExist(err) {
			return nil, out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var recs []Record
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var rec Record
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, rec)
		}
		return recs, out.String()
	}
}

func resetRunner() {
	runner.mu.Lock()
	defer runner.mu.Unlock()
	runner.once = sync.Once{}
	runner.f, runner.n, runner.path, runner.token = nil, 0, "", ""
}

func TestConstructorsShowOnce(t *testing.T) {
	stop := underRunner(t)
	BeginCell(1)
	os.Stdout.WriteString("text\n")
	d := PNG([]byte("\x89PNG fake"))
	if err := Display(d); err != nil { // claimed: already shown by PNG
		t.Fatal(err)
	}
	Display(d) // shown again, as a second Display in gophernotes
	Markdown("*m*")
	Display(MIME(MIMEMap{MIMETypeHTML: "<i>h</i>"}, nil)) // MIME shows, Display claims
	recs, out := stop()

	want := "\x00gognn-notebook:tok:c1\x00text\n\x00gognn-notebook:tok:d0\x00\x00gognn-notebook:tok:d1\x00\x00gognn-notebook:tok:d2\x00\x00gognn-notebook:tok:d3\x00"
	if out != want {
		t.Errorf("stdout %q; want %q", out, want)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records; want 4: %+v", len(recs), recs)
	}
	for i, r := range recs {
		if r.Index != i || r.OutputType != "display_data" {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	if got := recs[0].Data[MIMETypePNG]; got != base64.StdEncoding.EncodeToString([]byte("\x89PNG fake")) {
		t.Errorf("png data %v", got)
	}
	if got := recs[0].Data[MIMETypeText]; got != "<image/png, 9 bytes>" {
		t.Errorf("png text/plain %v", got)
	}
	if got := recs[2].Data[MIMETypeMarkdown]; got != "*m*" {
		t.Errorf("markdown %v", got)
	}
}

func TestResult(t *testing.T) {
	stop := underRunner(t)
	Result(SVG("<svg/>")) // already shown by SVG
	Result(42)
	Result(nil, nil)
	Result(1, nil)
	Result(image.NewGray(image.Rect(0, 0, 2, 3)))
	recs, _ := stop()
	if len(recs) != 4 {
		t.Fatalf("%d records; want 4: %+v", len(recs), recs)
	}
	for i, want := range []string{"<svg/>", "42", "1 <nil>", "<2x3 image>"} {
		mime := MIMETypeText
		if i == 0 {
			mime = MIMETypeSVG
		}
		if got := recs[i].Data[mime]; got != want {
			t.Errorf("record %d %s = %v; want %q", i, mime, got, want)
		}
	}
	if recs[0].OutputType != "display_data" || recs[1].OutputType != "execute_result" {
		t.Errorf("output types %q %q", recs[0].OutputType, recs[1].OutputType)
	}
	if md, _ := recs[3].Metadata[MIMETypePNG].(map[string]any); md["width"] != 2.0 || md["height"] != 3.0 {
		t.Errorf("image metadata %v", recs[3].Metadata)
	}
}

func TestOutsideRunner(t *testing.T) {
	t.Setenv(EnvRecords, "")
	resetRunner()
	t.Cleanup(resetRunner)
	d := HTML("<p>x</p>")
	if d.Data[MIMETypeHTML] != "<p>x</p>" || d.Data[MIMETypeText] != "<p>x</p>" {
		t.Errorf("HTML bundle %v", d.Data)
	}
	if d.Transient != nil {
		t.Errorf("a bundle made outside the runner is marked shown: %v", d.Transient)
	}
	if err := Display(d); err == nil || !strings.Contains(err.Error(), "not running under the notebook runner") {
		t.Errorf("Display outside the runner: %v", err)
	}
	Result(1) // does nothing
	BeginCell(1)
	if m := Math("$x^2$"); m.Data[MIMETypeLatex] != "$$x^2$$" || m.Data[MIMETypeText] != "$x^2$" {
		t.Errorf("Math bundle %v", m.Data)
	}
}

func TestDetectType(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"\x89PNG\r\n\x1a\nrest", MIMETypePNG},
		{"\xff\xd8\xff\xe0", MIMETypeJPEG},
		{"GIF89a...", "image/gif"},
		{"%PDF-1.7", MIMETypePDF},
		{"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", MIMETypeSVG},
		{"\ufeff<?xml version=\"1.0\"?>\n<!-- by gonum/plot -->\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\">\n<svg>", MIMETypeSVG},
		{"<svgx>", ""},
		{"<html><svg>", ""},
		{"<?xml unterminated", ""},
		{"plain text", ""},
		{"", ""},
	} {
		if got := DetectType([]byte(tc.in)); got != tc.want {
			t.Errorf("DetectType(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	pngPath := filepath.Join(dir, "a.png")
	svgPath := filepath.Join(dir, "a.svg")
	os.WriteFile(pngPath, []byte("\x89PNG\r\n\x1a\nxx"), 0o644)
	os.WriteFile(svgPath, []byte("<svg></svg>"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello"), 0o644)

	if d := File("", pngPath); string(d.Data[MIMETypePNG].([]byte)) != "\x89PNG\r\n\x1a\nxx" || d.Data[MIMETypeText] != pngPath {
		t.Errorf("File png: %v", d.Data)
	}
	if d := File("", svgPath); d.Data[MIMETypeSVG] != "<svg></svg>" {
		t.Errorf("File svg: %v", d.Data)
	}
	if d := File(MIMETypeMarkdown, filepath.Join(dir, "a.txt")); d.Data[MIMETypeMarkdown] != "hello" {
		t.Errorf("File with a type: %v", d.Data)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "a.txt"), "cannot tell the type"},
		{filepath.Join(dir, "missing.png"), "no such file"},
	} {
		func() {
			defer func() {
				r := recover()
				if err, ok := r.(error); !ok || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("File(%q) panicked with %v; want %q", tc.path, r, tc.want)
				}
			}()
			File("", tc.path)
		}()
	}
}
