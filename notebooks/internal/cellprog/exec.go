package cellprog

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gnnlab/gognn/notebooks/display"
)

// Config is what every program build and run shares.
type Config struct {
	Root    string        // module root: programs are built and run there
	GoCmd   string        // the go command
	Quick   bool          // set GOGNN_NOTEBOOK_QUICK=1 for the programs
	Timeout time.Duration // per notebook, build and run; the caller applies it
	Keep    bool          // keep the generated program in notebooks/.build
	Log     func(format string, args ...any)
}

// maxFixRounds bounds the builds spent removing unused variables and imports.
const maxFixRounds = 6

const modulePath = "github.com/gnnlab/gognn"

// BuildDir makes a new directory under notebooks/.build, inside the module so that a program
// there imports the module's packages. done removes it, unless cfg.Keep.
func BuildDir(cfg Config, base string) (dir string, done func(), err error) {
	buildRoot := filepath.Join(cfg.Root, "notebooks", ".build")
	for try := 0; ; try++ {
		if err = os.MkdirAll(buildRoot, 0o755); err == nil {
			dir, err = os.MkdirTemp(buildRoot, base+"-*")
		}
		if err == nil {
			break
		}
		if try == 2 { // another run may remove buildRoot between the two calls: try again
			return "", nil, err
		}
	}
	done = func() {
		if cfg.Keep {
			if cfg.Log != nil {
				cfg.Log("%s: program kept in %s", base, dir)
			}
		} else {
			os.RemoveAll(dir)
		}
		os.Remove(buildRoot) // removes it only when no other run uses it
	}
	return dir, done, nil
}

// Build writes the program to dir/main.go and compiles it to bin, removing what gophernotes
// tolerates and Go does not (unused variables and imports) until it compiles or a real error is
// left. The fix-ups stay in p, so a later build of p with more cells starts from them. Errors
// name the notebook (name), the cell and the line.
func Build(ctx context.Context, cfg Config, name string, p *Program, dir, bin string) error {
	return build(ctx, cfg, name, p, dir, bin)
}

// Run runs a built program of ncells cells and splits what it wrote into the nbformat outputs of
// each cell.
func Run(ctx context.Context, cfg Config, name, bin, dir string, ncells int) ([][]any, error) {
	return runProgram(ctx, cfg, name, bin, dir, ncells)
}

// build writes and compiles the program, removing what gophernotes tolerates and Go does not
// (unused variables and imports) until it compiles or a real error is left.
func build(ctx context.Context, cfg Config, name string, prog *program, dir, bin string) error {
	mainGo := filepath.Join(dir, "main.go")
	rel, err := filepath.Rel(cfg.Root, mainGo)
	if err != nil {
		return err
	}
	for round := 0; ; round++ {
		src, err := prog.source(name, "main.go")
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(mainGo, []byte(src), 0o644); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		cmd := exec.CommandContext(ctx, cfg.GoCmd, "build", "-gcflags=-e", "-o", bin, "./"+filepath.ToSlash(rel))
		cmd.Dir = cfg.Root
		out, err := cmd.CombinedOutput()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: building: %w", name, contextError(ctx, cfg))
		}
		errs := parseCompileErrors(string(out))
		if round < maxFixRounds && len(errs) > 0 && prog.fix(errs) {
			continue
		}
		for i := range errs {
			if h := prog.hint(errs[i]); h != "" {
				errs[i].msg += "\n\t" + h
			}
		}
		return compileFailure(name, errs, cfg.Keep)
	}
}

// compileFailure reports the compiler's errors, each with the notebook and the cell; errors that
// the fix-ups would handle are left out when real ones are there.
func compileFailure(name string, errs []compileError, kept bool) error {
	var real []compileError
	for _, e := range errs {
		if !reUnusedVar.MatchString(e.msg) && !reUnusedImport.MatchString(e.msg) && !strings.HasSuffix(e.msg, " is not used") &&
			e.msg != "no new variables on left side of :=" {
			real = append(real, e)
		}
	}
	if len(real) == 0 {
		real = errs
	}
	var b strings.Builder
	for i, e := range real {
		if i == 10 {
			fmt.Fprintf(&b, "\n%s: ... and %d more errors", name, len(real)-i)
			break
		}
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s: %s", name, e)
		if e.cell == 0 && e.file == "main.go" && !kept {
			b.WriteString(" (in the generated program: rerun with -keep to read it)")
		}
	}
	if len(real) == 0 {
		fmt.Fprintf(&b, "%s: the program does not compile", name)
	}
	return errors.New(b.String())
}

func contextError(ctx context.Context, cfg Config) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %v (set -timeout)", cfg.Timeout)
	}
	return errors.New("interrupted")
}

// runProgram runs the built program and splits what it wrote into the outputs of its cells.
func runProgram(ctx context.Context, cfg Config, name, bin, dir string, ncells int) ([][]any, error) {
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	records := filepath.Join(dir, "display.jsonl")

	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = cfg.Root
	cmd.Env = programEnv(cfg.Quick, records, token)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	outSegs, outCell := splitMarked(stdout.Bytes(), token)
	errSegs, errCell := splitMarked(stderr.Bytes(), token)
	cell := max(outCell, errCell, 1)
	if runErr != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: cell %d: %w", name, cell, contextError(ctx, cfg))
		}
		return nil, runFailure(name, cell, errSegs, runErr)
	}

	if cell < ncells {
		return nil, fmt.Errorf("%s: cell %d: the program ended before cell %d ran (os.Exit, or return at a cell's top level)", name, cell, cell+1)
	}

	recs, err := readRecords(records)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	outputs := make([][]any, ncells)
	add := func(cell int, o any) {
		if cell >= 1 && cell <= ncells {
			outputs[cell-1] = append(outputs[cell-1], o)
		}
	}
	cur, text := 1, ""
	flush := func() {
		if text != "" {
			add(cur, Stream("stdout", text))
			text = ""
		}
	}
	for _, s := range outSegs {
		switch {
		case s.cell > 0:
			flush()
			cur = s.cell
		case s.record >= 0:
			flush()
			if s.record >= len(recs) {
				return nil, fmt.Errorf("%s: cell %d: display record %d is missing from the runner's record file", name, cur, s.record)
			}
			add(cur, displayOutput(recs[s.record], cur))
		default:
			text += s.text
		}
	}
	flush()
	cur = 1
	for _, s := range errSegs {
		switch {
		case s.cell > 0:
			flush()
			cur = s.cell
		default:
			text += s.text
		}
	}
	if text != "" {
		add(cur, Stream("stderr", text))
	}
	return outputs, nil
}

// newToken returns the random token that marks the program's output.
func newToken() (string, error) {
	var tok [8]byte
	if _, err := rand.Read(tok[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(tok[:]), nil
}

func programEnv(quick bool, records, token string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "GOGNN_NOTEBOOK_QUICK" || k == display.EnvRecords || k == display.EnvToken {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, display.EnvRecords+"="+records, display.EnvToken+"="+token)
	if quick {
		env = append(env, "GOGNN_NOTEBOOK_QUICK=1")
	}
	return env
}

// segment is a piece of a program's output: a cell marker (cell > 0), a display marker
// (record >= 0) or text.
type segment struct {
	cell   int
	record int
	text   string
}

// splitMarked splits a stream at the runner's markers; it also returns the last cell marked.
func splitMarked(out []byte, token string) (segs []segment, lastCell int) {
	prefix := []byte(display.MarkerPrefix(token))
	for len(out) > 0 {
		i := bytes.Index(out, prefix)
		if i < 0 {
			segs = append(segs, segment{record: -1, text: string(out)})
			break
		}
		if i > 0 {
			segs = append(segs, segment{record: -1, text: string(out[:i])})
		}
		rest := out[i+len(prefix):]
		end := bytes.IndexByte(rest, 0)
		var n int
		var err error
		if end >= 1 {
			n, err = strconv.Atoi(string(rest[1:end]))
		}
		if end < 1 || err != nil || n < 0 {
			// Not a marker after all: keep the bytes as text.
			segs = append(segs, segment{record: -1, text: string(out[i : i+len(prefix)])})
			out = rest
			continue
		}
		switch rest[0] {
		case display.MarkerCell:
			segs = append(segs, segment{cell: n, record: -1})
			lastCell = n
		case display.MarkerDisplay:
			segs = append(segs, segment{record: n})
		}
		out = rest[end+1:]
	}
	return segs, lastCell
}

func readRecords(path string) ([]display.Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // nothing was displayed
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []display.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<30)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		var r display.Record
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("display record %d: %w", len(recs), err)
		}
		if r.Index != len(recs) {
			return nil, fmt.Errorf("display record %d is numbered %d", len(recs), r.Index)
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}

// Stream is an nbformat stream output: text written to "stdout" or "stderr".
func Stream(name, text string) any {
	return map[string]any{"name": name, "output_type": "stream", "text": SplitLines(text)}
}

// displayOutput is a display record as an nbformat output. Text formats are stored as lists of
// lines, as nbformat writes them; binary ones stay one base64 string.
func displayOutput(r display.Record, cell int) any {
	data := map[string]any{}
	for k, v := range r.Data {
		if s, ok := v.(string); ok && (strings.HasPrefix(k, "text/") || k == display.MIMETypeSVG || k == display.MIMETypeJavaScript) {
			data[k] = SplitLines(s)
		} else {
			data[k] = v
		}
	}
	md := map[string]any(r.Metadata)
	if md == nil {
		md = map[string]any{}
	}
	o := map[string]any{"data": data, "metadata": md, "output_type": r.OutputType}
	if r.OutputType == "execute_result" {
		o["execution_count"] = json.Number(strconv.Itoa(cell))
	}
	return o
}

var (
	reFrameFunc = regexp.MustCompile(`^(?:main\.)?([^\s(]+)\(`)
	reFrameFile = regexp.MustCompile(`^\t(?:.*/)?cell(\d+)\.go:(\d+)`)
)

// runFailure reports a program that panicked or exited with an error: the cell that was running,
// the panic message or the end of what the cell wrote to standard error, and the cell lines of
// the traceback.
func runFailure(name string, cell int, errSegs []segment, runErr error) error {
	var cellErr strings.Builder
	cur := 1
	for _, s := range errSegs {
		if s.cell > 0 {
			cur = s.cell
		} else if cur == cell {
			cellErr.WriteString(s.text)
		}
	}
	lines := strings.Split(strings.TrimRight(cellErr.String(), "\n"), "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			start = i
			break
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: cell %d: ", name, cell)
	if start < 0 {
		// An exit without a panic (os.Exit, log.Fatal): what the cell wrote last says why.
		tail := lines[max(0, len(lines)-10):]
		fmt.Fprintf(&b, "%v", runErr)
		for _, l := range tail {
			if strings.TrimSpace(l) != "" {
				b.WriteString("\n\t" + l)
			}
		}
		return errors.New(b.String())
	}
	i := start
	for ; i < len(lines) && lines[i] != "" && !strings.HasPrefix(lines[i], "goroutine "); i++ {
		if i > start {
			b.WriteString("\n")
		}
		b.WriteString(lines[i])
	}
	frames := 0
	for ; i < len(lines) && frames < 6; i++ {
		m := reFrameFile.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		fn := ""
		if f := reFrameFunc.FindStringSubmatch(lines[i-1]); f != nil && f[1] != "main" {
			fn = " (in " + f[1] + ")"
		}
		fmt.Fprintf(&b, "\n\tat cell %s, line %s%s", m[1], m[2], fn)
		frames++
	}
	return errors.New(b.String())
}

// SplitLines splits text into lines that keep their line ends, as Python's str.splitlines(True),
// which nbformat uses for multi-line strings.
func SplitLines(s string) []any {
	var lines []any
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		end := -1
		switch r {
		case '\r':
			end = i + 1
			if i+1 < len(s) && s[i+1] == '\n' {
				end = i + 2
			}
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			end = i + size
		}
		if end < 0 {
			i += size
			continue
		}
		lines = append(lines, s[start:end])
		start, i = end, end
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	if lines == nil {
		lines = []any{}
	}
	return lines
}

// ModuleRoot finds the directory of this module's go.mod at or above dir.
func ModuleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for _, l := range strings.Split(string(data), "\n") {
				if f := strings.Fields(l); len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == modulePath {
					return d, nil
				}
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside the %s module; run from its root", dir, modulePath)
		}
	}
}
