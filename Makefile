# The README's two commands: `make demo` runs the main job, `make test` runs every check CI runs.
GO       ?= go
# Packages that start goroutines run under the race detector too.
RACE_PKGS = ./graph/... ./ops/... ./hnsw/... ./vecio/... ./search/...

.PHONY: test fmt-check vet unit race noasm asm-check notebooks-check demo bench asm notebooks

test: fmt-check vet unit race noasm asm-check notebooks-check

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path './notebooks/.build/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test ./...

race:
	$(GO) test -race $(RACE_PKGS)

# The pure-Go fallback is what other architectures run: test it, not just build it.
noasm:
	$(GO) test -tags noasm ./ops/... ./quant/...

# The assembly is generated (ops/asm/_gen, avo): regenerate it, or fail when the committed files
# differ from what the generator writes.
asm:
	cd ops/asm && $(GO) run -C _gen . -out ..
	cd quant/_gen && $(GO) run . -out ..

asm-check:
	cd ops/asm && $(GO) run -C _gen . -out .. -check
	cd quant/_gen && $(GO) run . -check -out ..

# Every notebook runs, in quick mode, and nothing is rewritten.
notebooks-check:
	$(GO) run ./notebooks/run -quick -check

notebooks:
	$(GO) run ./notebooks/run

demo:
	$(GO) run ./experiments/demo

bench:
	$(GO) test ./ops/ -run '^$$' -bench 'BenchmarkAggregate' -benchtime 20x
