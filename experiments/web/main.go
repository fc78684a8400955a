// Command web serves the demo page: a generated topic corpus searched in the browser by the
// WebAssembly build of package search (in a Web Worker), with relevance judgements, training
// and the held-out precision@10 plotted as it rises.
//
//	make js && go run ./experiments/web -addr localhost:8080
//
// The page is embedded; the JavaScript package and its wasm files are served from -js (the
// repository's js/ folder, after make js) under /gognn/.
package main

import (
	"embed"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
)

//go:embed static
var static embed.FS

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	jsDir := flag.String("js", "js", "the JavaScript package's folder, with dist/ built by make js")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(1)
	}
	h, err := handler(*jsDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(1)
	}
	slog.Info("serving the demo", "url", "http://"+ln.Addr().String()+"/")
	if err := http.Serve(ln, h); err != nil {
		fmt.Fprintln(os.Stderr, "web:", err)
		os.Exit(1)
	}
}

// handler serves the page at / and the package at /gognn/.
func handler(jsDir string) (http.Handler, error) {
	wasm := filepath.Join(jsDir, "dist", "gognn.wasm")
	if _, err := os.Stat(wasm); err != nil {
		return nil, fmt.Errorf("%s not found: build it with make js, or point -js at the package", wasm)
	}
	page, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServerFS(page))
	mux.Handle("/gognn/", http.StripPrefix("/gognn/", http.FileServer(http.Dir(jsDir))))
	return mux, nil
}
