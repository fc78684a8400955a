//go:build js && wasm

// Command gognn-wasm is the WebAssembly backend of the JavaScript package (js/), built with
// GOOS=js GOARCH=wasm and run by Go's wasm_exec.js. It registers one function on the global
// object, named by its first argument (go.argv[1], default "__gognn"), that takes an engine
// request as a Uint8Array and returns the response as a Uint8Array (package engine), and then
// waits for calls. Built with the tag gognn_serve it leaves out the training stack.
package main

import (
	"os"
	"syscall/js"

	"github.com/gnnlab/gognn/engine"
)

func main() {
	name := "__gognn"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	e := engine.New()
	u8 := js.Global().Get("Uint8Array")
	call := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 1 || !args[0].InstanceOf(u8) {
			return js.ValueOf("gognn: the wasm entry point takes one Uint8Array")
		}
		req := make([]byte, args[0].Length())
		js.CopyBytesToGo(req, args[0])
		resp := e.Call(req)
		out := u8.New(len(resp))
		js.CopyBytesToJS(out, resp)
		return out
	})
	js.Global().Set(name, call)
	select {}
}
