// Package cellprog turns notebook code cells into one Go program inside the module, builds it and
// runs it: the semantics shared by the notebook runner (notebooks/run) and the Jupyter kernel
// (notebooks/kernel), so a notebook behaves the same under both.
//
// A cell mixes imports, package-level declarations (func, method, type, const) and statements.
// Imports go to the program's import block, declarations to package level, and statements, var
// declarations and := included, into main, cell after cell, each cell in a block nested in the
// one before, so a variable of one cell is seen by every later one and a later cell may declare
// the name again (a rerun, an edited cell). Every chunk keeps its cell and line through //line
// directives, so compiler errors and panics name the cell (by its label) and the line. The build
// removes what gophernotes accepts and Go does not (unused variables and imports) by insertions
// that keep positions.
//
// While it runs, the program marks the start of each cell and each displayed bundle on its
// output (the protocol of notebooks/display), so Run splits the output by cell after the run and
// RunFrom streams the output of the cells from a given one on, dropping that of the cells before.
// Run's programs read end-of-file from standard input; RunFrom's read through an InputSink, which
// the kernel answers with Jupyter's input_request.
package cellprog
