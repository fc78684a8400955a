package cellprog

import (
	"fmt"
	"go/ast"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

const (
	displayPath = "github.com/gnnlab/gognn/notebooks/display"
	blasPath    = "github.com/gnnlab/gognn/blas"
)

// Program is a notebook's code cells as one Go program. Each cell has a label, the number errors
// and tracebacks give it: the runner numbers code cells 1..n in notebook order, the kernel by
// execution count. Labels increase from cell to cell.
type Program struct {
	cells   [][]chunk       // chunks of each code cell, in program order
	labels  []int           // label of each cell
	dropped map[string]bool // import paths removed because no cell uses them
}

// program is the name the runner's code uses.
type program = Program

// New splits the sources of a notebook's code cells, in notebook order (code cell 1 first), and
// prepares them; the cells are labelled 1..n.
func New(sources []string) (*Program, error) {
	p := &Program{dropped: map[string]bool{}}
	for i, src := range sources {
		if err := p.Append(i+1, src); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func newProgram(sources []string) (*program, error) { return New(sources) }

// Append adds a cell labelled label (greater than every label before) after the others.
func (p *Program) Append(label int, src string) error {
	if n := len(p.labels); n > 0 && label <= p.labels[n-1] {
		return fmt.Errorf("cell label %d after %d: labels must increase", label, p.labels[n-1])
	}
	chunks, err := splitCell(label, src)
	if err != nil {
		return err
	}
	if err := prepareCell(chunks); err != nil {
		return err
	}
	p.cells = append(p.cells, chunks)
	p.labels = append(p.labels, label)
	clear(p.dropped) // the new cell may use an import that earlier cells left unused
	return nil
}

// Len returns the number of cells.
func (p *Program) Len() int { return len(p.cells) }

// Labels returns the label of every cell, in order.
func (p *Program) Labels() []int { return slices.Clone(p.labels) }

// Clone returns a copy that later changes to p (fix-ups, appended cells) leave alone.
func (p *Program) Clone() *Program {
	q := &Program{labels: slices.Clone(p.labels), dropped: map[string]bool{}}
	for _, c := range p.cells {
		q.cells = append(q.cells, slices.Clone(c))
	}
	for k, v := range p.dropped {
		q.dropped[k] = v
	}
	return q
}

// index returns the position of the cell labelled label, or -1.
func (p *Program) index(label int) int {
	i, ok := slices.BinarySearch(p.labels, label)
	if !ok {
		return -1
	}
	return i
}

// prepareCell rewrites what gophernotes accepts and Go does not, by insertions only, so positions in
// the cells stay valid: a bare value on a cell's last line is shown as the cell's result, a bare
// value elsewhere is discarded.
func prepareCell(chunks []chunk) error {
	last := -1
	if n := len(chunks); n > 0 && chunks[n-1].kind == stmtChunk {
		last = n - 1
	}
	for k := range chunks {
		c := &chunks[k]
		if c.kind != stmtChunk {
			continue
		}
		pc, err := c.parse()
		if err != nil {
			return err
		}
		body := pc.body()
		var edits []edit
		for si, st := range body {
			es, ok := st.(*ast.ExprStmt)
			if !ok || isCallOrReceive(es.X) {
				continue
			}
			start, end := pc.offset(es.X.Pos()), pc.offset(es.X.End())
			if k == last && si == len(body)-1 {
				edits = append(edits, edit{start, "_nbdisplay.Result("}, edit{end, ")"})
			} else {
				edits = append(edits, edit{start, "_ = "})
			}
		}
		c.text = applyEdits(c.text, edits)
	}
	return nil
}

func isCallOrReceive(e ast.Expr) bool {
	e = ast.Unparen(e)
	if _, ok := e.(*ast.CallExpr); ok {
		return true
	}
	u, ok := e.(*ast.UnaryExpr)
	return ok && u.Op == token.ARROW
}

// edit inserts text at a byte offset of a chunk. Insertions keep every line of a cell where it
// was, so positions stay exact but for columns after an insertion on the same line.
type edit struct {
	off  int
	text string
}

func applyEdits(s string, edits []edit) string {
	slices.SortStableFunc(edits, func(a, b edit) int { return b.off - a.off })
	for _, e := range edits {
		s = s[:e.off] + e.text + s[e.off:]
	}
	return s
}

// source writes the program. genFile is the name the generated lines carry in errors.
func (p *program) source(nbName, genFile string) (string, error) {
	var imports []importSpec
	seen := map[importSpec]bool{}
	names := map[string]bool{}
	usesDisplay, declaresDisplay := false, false
	qualifiers := map[string]bool{}            // x of every x.y: the packages the cells may use
	topNames := make([][]string, len(p.cells)) // variables each cell declares at its top level

	for ci, chunks := range p.cells {
		for _, c := range chunks {
			pc, err := c.parse()
			if err != nil {
				return "", err
			}
			ast.Inspect(pc.file, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if id, ok := sel.X.(*ast.Ident); ok {
						qualifiers[id.Name] = true
						usesDisplay = usesDisplay || id.Name == "display"
					}
				}
				return true
			})
			switch c.kind {
			case importChunk:
				for _, s := range pc.imports() {
					s.cell = c.cell
					if p.dropped[s.path] {
						continue
					}
					key := importSpec{name: s.name, path: s.path}
					if seen[key] {
						continue
					}
					seen[key] = true
					names[s.pkgName()] = true
					imports = append(imports, s)
				}
			case declChunk:
				for _, d := range pc.file.Decls {
					if declaresName(d, "Display") {
						declaresDisplay = true
					}
				}
			case stmtChunk:
				for _, st := range pc.body() {
					topNames[ci] = append(topNames[ci], definedNames(st)...)
				}
			}
		}
	}

	var b genWriter
	b.file = genFile
	b.printf("// Code generated by go run ./notebooks/run from %s. DO NOT EDIT.\n", nbName)
	b.printf("// Cell code follows //line directives: errors and tracebacks name cellN.go and the cell's line.\n\n")
	b.printf("package main\n\nimport (\n")
	b.printf("\t_nbdisplay %q\n", displayPath)
	b.printf("\t_nbblas %q\n", blasPath)
	if usesDisplay && !names["display"] && !p.dropped[displayPath] {
		b.printf("\tdisplay %q\n", displayPath)
	}
	for _, s := range imports {
		if n := s.pkgName(); s.name != "_" && s.name != "." && token.IsIdentifier(n) && !qualifiers[n] {
			// No cell uses it: leave it out rather than spend a build on the compiler's error.
			// (When the guessed package name is wrong, the compiler's error drops it instead.)
			continue
		}
		b.directive(s.cell, s.line, s.col)
		if s.name != "" {
			b.printf("%s ", s.name)
		}
		b.printf("%q\n", s.path)
	}
	b.restore()
	b.printf(")\n\n")
	if !declaresDisplay {
		b.printf("// Display shows d, as the Display function gophernotes declares.\n")
		b.printf("func Display(d _nbdisplay.Data) error { return _nbdisplay.Display(d) }\n\n")
	}
	for _, chunks := range p.cells {
		for _, c := range chunks {
			if c.kind == declChunk {
				b.directive(c.cell, c.line, c.col)
				b.printf("%s\n", c.text)
				b.restore()
				b.printf("\n")
			}
		}
	}
	b.printf("func main() {\n")
	b.printf("\t_nbblas.Use() // notebooks measure and train with the project's SGEMM, as the experiments do\n")
	for ci, chunks := range p.cells {
		// Each cell opens a block that the next ones are inside of, so a later cell may declare a
		// variable again (a rerun or an edit of a cell), as in gophernotes.
		b.printf("\t{\n\t_nbdisplay.BeginCell(%d)\n", p.labels[ci])
		for _, c := range chunks {
			if c.kind == stmtChunk {
				b.directive(c.cell, c.line, c.col)
				b.printf("%s\n", c.text)
				b.restore()
			}
		}
		for _, name := range topNames[ci] {
			// gophernotes accepts a variable no code uses; Go accepts it once used here.
			b.printf("\t_ = %s\n", name)
		}
	}
	b.printf("%s\n}\n", strings.Repeat("\t}", len(p.cells)))
	return b.String(), nil
}

// definedNames returns the variables a top-level statement declares (:= or var).
func definedNames(st ast.Stmt) []string {
	var names []string
	add := func(id *ast.Ident) {
		if id.Name != "_" {
			names = append(names, id.Name)
		}
	}
	switch s := st.(type) {
	case *ast.AssignStmt:
		if s.Tok == token.DEFINE {
			for _, e := range s.Lhs {
				if id, ok := e.(*ast.Ident); ok {
					add(id)
				}
			}
		}
	case *ast.DeclStmt:
		if g, ok := s.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
			for _, sp := range g.Specs {
				for _, id := range sp.(*ast.ValueSpec).Names {
					add(id)
				}
			}
		}
	}
	return names
}

func declaresName(d ast.Decl, name string) bool { return slices.Contains(declNames(d), name) }

// genWriter writes the program, keeping count of its lines for the //line directives that give
// generated lines back their own positions.
type genWriter struct {
	strings.Builder
	file string
	line int // lines written so far
}

func (w *genWriter) printf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	w.line += strings.Count(s, "\n")
	w.WriteString(s)
}

func (w *genWriter) directive(cell, line, col int) { w.printf("%s", lineDirective(cell, line, col)) }

// restore makes the next line carry its own position in the generated file.
func (w *genWriter) restore() { w.printf("//line %s:%d\n", w.file, w.line+2) }

// Compiler errors the runner fixes up, as gophernotes accepts the code.
var (
	reUnusedVar    = regexp.MustCompile(`^declared and not used: (\w+)$|^(\w+) declared (?:and|but) not used$`)
	reUnusedImport = regexp.MustCompile(`^"([^"]+)" imported (?:as \w+ )?and not used$`)
)

// fix applies the fix-ups for errs, the compiler's errors. It reports whether every error was
// fixed; the caller builds again if so.
func (p *program) fix(errs []compileError) bool {
	for _, e := range errs {
		if m := reUnusedImport.FindStringSubmatch(e.msg); m != nil {
			p.dropped[m[1]] = true
			continue
		}
		if e.msg == "no new variables on left side of :=" {
			// A later cell declares a variable again, as gophernotes allows: assign instead.
			if !p.redefine(e.cell, e.line, e.col) {
				return false
			}
			continue
		}
		if strings.HasSuffix(e.msg, " is not used") {
			// A value the syntax cannot tell from a call: a conversion or a builtin (len(xs)).
			if !p.useValue(e.cell, e.line, e.col) {
				return false
			}
			continue
		}
		m := reUnusedVar.FindStringSubmatch(e.msg)
		if m == nil || e.cell == 0 {
			return false
		}
		name := m[1] + m[2]
		if !p.useVar(e.cell, e.line, e.col, name) {
			return false
		}
	}
	return true
}

// useVar inserts a use of variable name, declared at line:col of a cell, where it is in scope:
// after the statement that declares it, or at the start of the block or clause whose header
// declares it.
func (p *program) useVar(cell, line, col int, name string) bool {
	ci := p.index(cell)
	if ci < 0 {
		return false
	}
	for k := range p.cells[ci] {
		c := &p.cells[ci][k]
		pc, err := c.parse()
		if err != nil {
			return false
		}
		var path []ast.Node
		var found []ast.Node
		ast.Inspect(pc.file, func(n ast.Node) bool {
			if found != nil {
				return false
			}
			if n == nil {
				path = path[:len(path)-1]
				return false
			}
			path = append(path, n)
			if id, ok := n.(*ast.Ident); ok && id.Name == name {
				if pos := pc.fset.Position(id.Pos()); pos.Line == line && pos.Column == col {
					found = slices.Clone(path)
				}
			}
			return true
		})
		if found == nil {
			continue
		}
		use := "_ = " + name + "; "
		within := func(n, outer ast.Node) bool {
			return outer != nil && n.Pos() >= outer.Pos() && n.End() <= outer.End()
		}
		id := found[len(found)-1]
		for i := len(found) - 2; i >= 0; i-- {
			var edits []edit
			switch n := found[i].(type) {
			case *ast.BlockStmt:
				edits = []edit{{pc.offset(found[i+1].End()), "; _ = " + name}}
			case *ast.CaseClause:
				if within(id, caseBody(n.Body)) {
					edits = []edit{{pc.offset(found[i+1].End()), "; _ = " + name}}
				}
			case *ast.CommClause:
				if within(id, n.Comm) {
					edits = []edit{{pc.offset(n.Colon + 1), " " + use}}
				} else {
					edits = []edit{{pc.offset(found[i+1].End()), "; _ = " + name}}
				}
			case *ast.IfStmt:
				if within(id, n.Init) {
					edits = []edit{{pc.offset(n.Body.Lbrace + 1), " " + use}}
				}
			case *ast.ForStmt:
				if within(id, n.Init) {
					edits = []edit{{pc.offset(n.Body.Lbrace + 1), " " + use}}
				}
			case *ast.RangeStmt:
				if within(id, n.Key) || within(id, n.Value) {
					edits = []edit{{pc.offset(n.Body.Lbrace + 1), " " + use}}
				}
			case *ast.SwitchStmt:
				if within(id, n.Init) {
					for _, cc := range n.Body.List {
						edits = append(edits, edit{pc.offset(cc.(*ast.CaseClause).Colon + 1), " " + use})
					}
				}
			case *ast.TypeSwitchStmt:
				if within(id, n.Init) || within(id, n.Assign) {
					for _, cc := range n.Body.List {
						edits = append(edits, edit{pc.offset(cc.(*ast.CaseClause).Colon + 1), " " + use})
					}
				}
			}
			if edits != nil {
				c.text = applyEdits(c.text, edits)
				return true
			}
		}
	}
	return false
}

// useValue shows or discards the value of the expression statement at line:col of a cell, as
// prepare does for the values it recognises.
func (p *program) useValue(cell, line, col int) bool {
	ci := p.index(cell)
	if ci < 0 {
		return false
	}
	chunks := p.cells[ci]
	for k := range chunks {
		c := &chunks[k]
		pc, err := c.parse()
		if err != nil {
			return false
		}
		var found *ast.ExprStmt
		ast.Inspect(pc.file, func(n ast.Node) bool {
			if es, ok := n.(*ast.ExprStmt); ok && found == nil {
				if pos := pc.fset.Position(es.X.Pos()); pos.Line == line && pos.Column == col {
					found = es
				}
			}
			return found == nil
		})
		if found == nil {
			continue
		}
		start, end := pc.offset(found.X.Pos()), pc.offset(found.X.End())
		body := pc.body()
		if c.kind == stmtChunk && k == len(chunks)-1 && len(body) > 0 && body[len(body)-1] == ast.Stmt(found) {
			c.text = applyEdits(c.text, []edit{{start, "_nbdisplay.Result("}, {end, ")"}})
		} else {
			c.text = applyEdits(c.text, []edit{{start, "_ = "}})
		}
		return true
	}
	return false
}

// redefine turns the := at line:col of a cell into =, keeping the columns ("= ").
func (p *program) redefine(cell, line, col int) bool {
	ci := p.index(cell)
	if ci < 0 {
		return false
	}
	for k := range p.cells[ci] {
		c := &p.cells[ci][k]
		pc, err := c.parse()
		if err != nil {
			return false
		}
		done := false
		ast.Inspect(pc.file, func(n ast.Node) bool {
			if a, ok := n.(*ast.AssignStmt); ok && !done && a.Tok == token.DEFINE {
				if pos := pc.fset.Position(a.TokPos); pos.Line == line && pos.Column == col {
					off := pc.offset(a.TokPos)
					c.text = c.text[:off] + "= " + c.text[off+2:]
					done = true
				}
			}
			return !done
		})
		if done {
			return true
		}
	}
	return false
}

func caseBody(list []ast.Stmt) ast.Node {
	if len(list) == 0 {
		return nil
	}
	return &ast.BlockStmt{Lbrace: list[0].Pos(), List: list, Rbrace: list[len(list)-1].End()}
}

// hint adds to a compiler error what to change in the notebook, where the cause is a rule of the
// runner that gophernotes does not have.
func (p *program) hint(e compileError) string {
	if name, ok := strings.CutPrefix(e.msg, "undefined: "); ok && e.cell > 0 {
		decl := 0
		for ci, chunks := range p.cells {
			for _, c := range chunks {
				if c.kind != stmtChunk {
					continue
				}
				if pc, err := c.parse(); err == nil {
					for _, st := range pc.body() {
						if slices.Contains(definedNames(st), name) && decl == 0 {
							decl = p.labels[ci]
						}
					}
				}
			}
		}
		switch {
		case decl == 0:
		case p.kindAt(e.cell, e.line) == declChunk:
			return fmt.Sprintf("%s is a variable of cell %d, and variables live in the notebook's main function: functions, methods and types see imports, functions, types and constants only; pass %s as an argument", name, decl, name)
		case decl > e.cell:
			return fmt.Sprintf("%s is declared later, in cell %d", name, decl)
		}
	}
	if strings.Contains(e.msg, "redeclared in this block") {
		return "every function, type, constant and top-level var is declared once per notebook (gophernotes lets a later cell redefine it, Go does not): rename one, or assign with ="
	}
	return ""
}

// kindAt returns the kind of the chunk of a cell that holds a line.
func (p *program) kindAt(cell, line int) chunkKind {
	ci := p.index(cell)
	if ci < 0 {
		return stmtChunk
	}
	kind := stmtChunk
	for _, c := range p.cells[ci] {
		if c.line <= line {
			kind = c.kind
		}
	}
	return kind
}

// compileError is one error of the compiler, at a cell position when cell > 0.
type compileError struct {
	cell, line, col int
	file            string // the file named, when not a cell
	msg             string
}

func (e compileError) String() string {
	if e.cell > 0 {
		return (&cellError{cell: e.cell, line: e.line, col: e.col, msg: e.msg}).Error()
	}
	if e.file != "" {
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	}
	return e.msg
}

var reCompilerLine = regexp.MustCompile(`^(\S+?\.go):(\d+)(?::(\d+))?(?:\[[^\]]*\])?: (.*)$`)
var (
	reCellFile = regexp.MustCompile(`(?:^|/)cell(\d+)\.go$`)
	// A position in a cell, and the position in the generated file the compiler may add.
	reCellPos = regexp.MustCompile(`(?:\S*/)?cell(\d+)\.go:(\d+(?::\d+)?)(?:\[[^\]]*\])?(:?)`)
)

// parseCompileErrors reads go build's output into errors; lines that are not errors (the
// "# command-line-arguments" header, "too many errors") are kept as messages only when nothing
// else is found.
func parseCompileErrors(out string) []compileError {
	var errs []compileError
	var other []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		l = strings.TrimRight(l, "\r")
		if l == "" || strings.HasPrefix(l, "# ") {
			continue
		}
		m := reCompilerLine.FindStringSubmatch(l)
		if m == nil {
			if strings.HasPrefix(l, "\t") && len(errs) > 0 { // continuation of the previous error
				errs[len(errs)-1].msg += "\n" + reCellPos.ReplaceAllString(l, "cell $1, line $2$3")
				continue
			}
			other = append(other, l)
			continue
		}
		e := compileError{msg: m[4]}
		e.line, _ = strconv.Atoi(m[2])
		e.col, _ = strconv.Atoi(m[3])
		if c := reCellFile.FindStringSubmatch(m[1]); c != nil {
			e.cell, _ = strconv.Atoi(c[1])
		} else {
			e.file = m[1]
		}
		errs = append(errs, e)
	}
	if len(errs) == 0 && len(other) > 0 {
		errs = append(errs, compileError{msg: strings.Join(other, "\n")})
	}
	return errs
}
