# The README's two commands: `make demo` runs the main job, `make test` runs every check CI runs.
GO       ?= go
# Packages that start goroutines run under the race detector too.
RACE_PKGS = ./graph/... ./ops/... ./hnsw/... ./vecio/...

.PHONY: test fmt-check vet unit race noasm asm-check demo bench asm

test: fmt-check vet unit race noasm asm-check

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

unit:
	$(GO) test ./...

race:
	$(GO) test -race $(RACE_PKGS)

# The pure-Go fallback is what other architectures run: test it, not just build it.
noasm:
	$(GO) test -tags noasm ./ops/...

# The assembly is generated; fail when the committed files differ from what the generator writes.
asm:
	cd ops/asm/_gen && $(GO) run . -out ..

asm-check:
	@tmp=$$(mktemp -d) && cp ops/asm/*.s ops/asm/*_amd64.go $$tmp/ && \
	$(MAKE) --no-print-directory asm >/dev/null && \
	for f in $$tmp/*; do cmp -s $$f ops/asm/$$(basename $$f) || { echo "ops/asm/$$(basename $$f) is stale: run make asm"; rm -rf $$tmp; exit 1; }; done; \
	rm -rf $$tmp

demo:
	$(GO) run ./experiments/demo

bench:
	$(GO) test ./ops/ -run '^$$' -bench 'BenchmarkAggregate' -benchtime 20x
