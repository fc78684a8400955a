// Package display shows images, Markdown, HTML and other rich output from notebook cells, with the
// API of gophernotes' display package (github.com/gopherdata/gophernotes), so a cell written for
// gophernotes compiles under the project's runner (go run ./notebooks/run) and its Jupyter kernel
// (notebooks/kernel, "gognn") as it is.
//
// In gophernotes the package is imported for you as display, every constructor (PNG, SVG,
// Markdown, ...) returns a Data bundle, and a bundle is shown when it is the value of a cell's last
// line or is passed to the kernel's Display function. The runner and the gognn kernel import the
// package for you too, provide Display, and additionally show every bundle a constructor makes at
// the moment it is made; Display of a bundle a constructor already showed does not show it twice.
// So
//
//	display.Markdown("## Loss")           // last line of a cell: shown once, in both kernels
//	Display(display.PNG(png))             // anywhere: shown once, in both kernels
//
// behave alike in both; a constructor called mid-cell without Display is shown by the runner and
// the gognn kernel only.
//
// Outside a notebook (no GOGNN_NOTEBOOK_DISPLAY in the environment) the constructors only build
// bundles and Display reports that nothing can show them.
package display

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"strings"
)

// MIME types of the bundles, as Jupyter names them.
const (
	MIMETypeHTML       = "text/html"
	MIMETypeJavaScript = "application/javascript"
	MIMETypeJPEG       = "image/jpeg"
	MIMETypeJSON       = "application/json"
	MIMETypeLatex      = "text/latex"
	MIMETypeMarkdown   = "text/markdown"
	MIMETypePNG        = "image/png"
	MIMETypePDF        = "application/pdf"
	MIMETypeSVG        = "image/svg+xml"
	MIMETypeText       = "text/plain"
)

// MIMEMap maps a MIME type to the data in that format: a string for text formats, []byte for
// binary ones (written base64 in the notebook), a JSON-encodable value for application/json.
type MIMEMap = map[string]any

// BundledMIMEData is MIMEMap under the name older gophernotes releases used.
type BundledMIMEData = MIMEMap

// Data is one display bundle: the same content in one or more formats (Jupyter shows the richest it
// can), metadata such as an image's size, and transient data that is never saved in the notebook.
type Data struct {
	Data      MIMEMap
	Metadata  MIMEMap
	Transient MIMEMap
}

// MakeData returns a bundle holding data as mimeType, with a text/plain fallback.
func MakeData(mimeType string, data any) Data {
	d := Data{Data: MIMEMap{mimeType: data}}
	if mimeType != MIMETypeText {
		d.Data[MIMETypeText] = plainFallback(mimeType, data)
	}
	return shown(d)
}

// MakeData3 returns a bundle holding data as mimeType and plaintext as text/plain.
func MakeData3(mimeType string, plaintext string, data any) Data {
	return shown(Data{Data: MIMEMap{MIMETypeText: plaintext, mimeType: data}})
}

// MIME returns a bundle of the given data and metadata maps, taken as they are.
func MIME(data, metadata MIMEMap) Data {
	return shown(Data{Data: data, Metadata: metadata})
}

// HTML shows an HTML fragment.
func HTML(html string) Data { return MakeData(MIMETypeHTML, html) }

// JavaScript shows JavaScript for the front end to run.
func JavaScript(javascript string) Data { return MakeData(MIMETypeJavaScript, javascript) }

// JPEG shows a JPEG image given as its encoded bytes.
func JPEG(jpeg []byte) Data { return MakeData(MIMETypeJPEG, jpeg) }

// JSON shows a JSON object.
func JSON(json map[string]any) Data { return MakeData(MIMETypeJSON, json) }

// Latex shows a LaTeX formula typeset inline ($...$).
func Latex(latex string) Data {
	return MakeData3(MIMETypeLatex, latex, "$"+strings.Trim(latex, "$")+"$")
}

// Markdown shows Markdown text.
func Markdown(markdown string) Data { return MakeData(MIMETypeMarkdown, markdown) }

// Math shows a LaTeX formula typeset as a display equation ($$...$$).
func Math(latex string) Data {
	return MakeData3(MIMETypeLatex, latex, "$$"+strings.Trim(latex, "$")+"$$")
}

// PDF shows a PDF document given as its bytes.
func PDF(pdf []byte) Data { return MakeData(MIMETypePDF, pdf) }

// PNG shows a PNG image given as its encoded bytes.
func PNG(png []byte) Data { return MakeData(MIMETypePNG, png) }

// SVG shows an SVG image given as its XML text.
func SVG(svg string) Data { return MakeData(MIMETypeSVG, svg) }

// Text shows plain text as a display output. It is not in gophernotes' package: a cell that
// must also run there prints with fmt instead.
func Text(text string) Data { return MakeData(MIMETypeText, text) }

// Image shows an image.Image, encoded as PNG, with its size as metadata. An image that cannot be
// encoded shows the error as text.
func Image(img image.Image) Data {
	return shown(imageData(img))
}

func imageData(img image.Image) Data {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Data{Data: MIMEMap{MIMETypeText: "display: encoding image as PNG: " + err.Error()}}
	}
	r := img.Bounds()
	return Data{
		Data:     MIMEMap{MIMETypePNG: buf.Bytes(), MIMETypeText: fmt.Sprintf("<%dx%d image>", r.Dx(), r.Dy())},
		Metadata: MIMEMap{MIMETypePNG: map[string]any{"width": r.Dx(), "height": r.Dy()}},
	}
}

// File shows the content of the file at path as mimeType. With mimeType "" the type is found from
// the content: PNG, JPEG, GIF, PDF and SVG images are recognised, so a figure written by
// plots.Save shows with File("", "results/loss.png"). Like gophernotes, File panics when the file
// cannot be read or its type cannot be recognised: a figure missing from a notebook fails the run.
func File(mimeType string, path string) Data {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(fmt.Errorf("display.File: %w", err))
	}
	if mimeType == "" {
		mimeType = DetectType(b)
		if mimeType == "" {
			panic(fmt.Errorf("display.File: cannot tell the type of %s: not PNG, JPEG, GIF, PDF or SVG; pass the MIME type as File's first argument", path))
		}
	}
	if isText(mimeType) {
		return MakeData3(mimeType, path, string(b))
	}
	return MakeData3(mimeType, path, b)
}

// DetectType returns the MIME type of an image or document from its first bytes: image/png,
// image/jpeg, image/gif, application/pdf or image/svg+xml, or "" for anything else.
func DetectType(b []byte) string {
	for _, m := range magic {
		if bytes.HasPrefix(b, []byte(m.prefix)) {
			return m.mimeType
		}
	}
	// SVG is XML: skip a byte-order mark, an XML declaration, comments and a doctype, then
	// expect the svg element.
	s := strings.TrimPrefix(string(b[:min(len(b), 4096)]), "\ufeff")
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		var end string
		switch {
		case strings.HasPrefix(s, "<?"):
			end = "?>"
		case strings.HasPrefix(s, "<!--"):
			end = "-->"
		case strings.HasPrefix(s, "<!"):
			end = ">"
		case strings.HasPrefix(s, "<svg") && len(s) > 4 && strings.ContainsRune(" \t\r\n>/", rune(s[4])):
			return MIMETypeSVG
		default:
			return ""
		}
		i := strings.Index(s, end)
		if i < 0 {
			return ""
		}
		s = s[i+len(end):]
	}
}

// magic holds the signatures DetectType recognises.
var magic = []struct{ prefix, mimeType string }{
	{"\x89PNG\r\n\x1a\n", MIMETypePNG},
	{"\xff\xd8\xff", MIMETypeJPEG},
	{"GIF87a", "image/gif"},
	{"GIF89a", "image/gif"},
	{"%PDF-", MIMETypePDF},
}

// isText reports whether Jupyter stores data of this MIME type as text rather than base64.
func isText(mimeType string) bool {
	return strings.HasPrefix(mimeType, "text/") || mimeType == MIMETypeSVG ||
		mimeType == MIMETypeJavaScript || mimeType == MIMETypeJSON
}

// plainFallback is the text/plain form of data: the text itself for text formats, a short
// description for binary ones (printing kilobytes of PNG as numbers helps nobody).
func plainFallback(mimeType string, data any) string {
	if b, ok := data.([]byte); ok {
		return fmt.Sprintf("<%s, %d bytes>", mimeType, len(b))
	}
	return fmt.Sprint(data)
}
