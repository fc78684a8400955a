package main

import (
	"bufio"
	"context"
	"go/token"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gnnlab/gognn/notebooks/internal/cellprog"
)

// builtins are Go's predeclared identifiers, offered by completion.
var builtins = strings.Fields(`any append bool byte cap clear close comparable complex complex128 complex64
copy delete error false float32 float64 imag int int16 int32 int64 int8 iota len make max min new nil
panic print println real recover rune string true uint uint16 uint32 uint64 uint8 uintptr`)

// cursorOffset converts a cursor position counted in Unicode code points, as the protocol counts
// it since 5.2, to a byte offset in code.
func cursorOffset(code string, pos int) int {
	off := 0
	for i := 0; i < pos && off < len(code); i++ {
		_, size := utf8.DecodeRuneInString(code[off:])
		off += size
	}
	return off
}

func runeCount(s string) int { return utf8.RuneCountInString(s) }

func isIdent(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// wordAt returns the identifier that ends at byte offset off (the part typed so far), its start,
// and the identifier before a dot just before it ("fmt" in "fmt.Pr"), if any.
func wordAt(code string, off int) (word string, start int, qualifier string) {
	start = off
	for start > 0 {
		r, size := utf8.DecodeLastRuneInString(code[:start])
		if !isIdent(r) {
			break
		}
		start -= size
	}
	word = code[start:off]
	if start > 0 && code[start-1] == '.' {
		q := start - 1
		for q > 0 {
			r, size := utf8.DecodeLastRuneInString(code[:q])
			if !isIdent(r) {
				break
			}
			q -= size
		}
		qualifier = code[q : start-1]
	}
	return word, start, qualifier
}

// scope returns the session's program with code added as a cell, as far as code parses, for the
// names and imports it brings.
func scope(sess *session, code string) *cellprog.Program {
	p := sess.prog.Clone()
	p.Append(1<<30, code) // a cell that does not parse adds nothing
	return p
}

// complete answers a complete_request: after "pkg." the exported names of that imported package
// (from go doc), otherwise the session's names, the imported packages, keywords and builtins.
func complete(ctx context.Context, sess *session, code string, cursor int) map[string]any {
	off := cursorOffset(code, cursor)
	word, start, qual := wordAt(code, off)
	p := scope(sess, code)
	var cands []string
	if qual != "" {
		if path, ok := p.Imports()[qual]; ok {
			cands = exported(ctx, sess.cfg.Root, sess.cfg.GoCmd, path)
		}
	} else {
		cands = append(cands, p.Names()...)
		for name := range p.Imports() {
			cands = append(cands, name)
		}
		for t := token.BREAK; t <= token.VAR; t++ {
			cands = append(cands, t.String())
		}
		cands = append(cands, builtins...)
	}
	var matches []string
	for _, c := range cands {
		if strings.HasPrefix(c, word) {
			matches = append(matches, c)
		}
	}
	slices.Sort(matches)
	matches = slices.Compact(matches)
	if matches == nil {
		matches = []string{}
	}
	return map[string]any{
		"status": "ok", "matches": matches, "metadata": map[string]any{},
		"cursor_start": runeCount(code[:start]), "cursor_end": runeCount(code[:off]),
	}
}

var docCache sync.Map // import path -> []string

var reDocDecl = regexp.MustCompile(`^(?:func|type|var|const) (?:\([^)]*\) )?([A-Z]\w*)`)

// exported lists the exported package-level names of a package, from go doc -short.
func exported(ctx context.Context, root, goCmd, path string) []string {
	if v, ok := docCache.Load(path); ok {
		return v.([]string)
	}
	out, err := goDoc(ctx, root, goCmd, "-short", path)
	if err != nil {
		return nil
	}
	var names []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := reDocDecl.FindStringSubmatch(line); m != nil {
			names = append(names, m[1])
		}
	}
	docCache.Store(path, names)
	return names
}

func goDoc(ctx context.Context, root, goCmd string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, append([]string{"doc"}, args...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	return string(out), err
}

// inspect answers an inspect_request with go doc of the name at the cursor: pkg.Name, or an
// imported package.
func inspect(ctx context.Context, sess *session, code string, cursor int) map[string]any {
	off := cursorOffset(code, cursor)
	end := off
	for end < len(code) {
		r, size := utf8.DecodeRuneInString(code[end:])
		if !isIdent(r) {
			break
		}
		end += size
	}
	word, _, qual := wordAt(code, end)
	imports := scope(sess, code).Imports()
	var args []string
	if path, ok := imports[qual]; ok && qual != "" {
		args = []string{path, word}
	} else if path, ok := imports[word]; ok {
		args = []string{path}
	}
	reply := map[string]any{"status": "ok", "found": false, "data": map[string]any{}, "metadata": map[string]any{}}
	if args == nil {
		return reply
	}
	doc, err := goDoc(ctx, sess.cfg.Root, sess.cfg.GoCmd, args...)
	if err != nil || strings.TrimSpace(doc) == "" {
		return reply
	}
	reply["found"] = true
	reply["data"] = map[string]any{"text/plain": doc}
	return reply
}

// isComplete answers an is_complete_request: code whose brackets are still open is incomplete.
func isComplete(code string) map[string]any {
	p, _ := cellprog.New(nil)
	err := p.Append(1, code)
	switch {
	case err == nil:
		return map[string]any{"status": "complete"}
	case strings.Contains(err.Error(), "not closed"):
		return map[string]any{"status": "incomplete", "indent": "\t"}
	}
	return map[string]any{"status": "invalid"}
}
