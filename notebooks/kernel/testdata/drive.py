"""Drives the gognn kernel with jupyter_client, as Jupyter does, and prints one JSON object of
what happened. Run by kernel_test.go with JUPYTER_PATH pointing at a kernelspec named gognn."""
import json
import queue
import sys
import time

from jupyter_client.manager import KernelManager

TIMEOUT = 240  # a cell builds a Go program: generous on a loaded machine


def run(kc, code, on_output=None):
    """Executes code; returns (reply content, outputs) where outputs are iopub messages."""
    msg_id = kc.execute(code)
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t = msg["msg_type"]
        if t == "status" and msg["content"]["execution_state"] == "idle":
            break
        if t in ("stream", "display_data", "execute_result", "error"):
            outputs.append({"type": t, "content": msg["content"]})
            if on_output:
                on_output(msg)
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    assert reply["parent_header"]["msg_id"] == msg_id
    return reply["content"], outputs


def run_with_input(kc, code, answers, allow_stdin=True):
    """Executes code, answering each input_request with the next of answers; returns (reply
    content, outputs, prompts) where prompts counts the input_requests."""
    msg_id = kc.execute(code, allow_stdin=allow_stdin)
    outputs, prompts, idle = [], 0, False
    deadline = time.monotonic() + TIMEOUT
    while not idle:
        if time.monotonic() > deadline:
            raise TimeoutError("no idle status for " + code)
        try:
            msg = kc.get_stdin_msg(timeout=0.05)
            if msg["msg_type"] == "input_request" and msg["parent_header"].get("msg_id") == msg_id:
                prompts += 1
                kc.input(answers.pop(0) if answers else "")
        except queue.Empty:
            pass
        try:
            msg = kc.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t = msg["msg_type"]
        if t == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
        elif t in ("stream", "display_data", "execute_result", "error"):
            outputs.append({"type": t, "content": msg["content"]})
    reply = kc.get_shell_msg(timeout=TIMEOUT)
    assert reply["parent_header"]["msg_id"] == msg_id
    return reply["content"], outputs, prompts


def text(outputs, name="stdout"):
    return "".join(o["content"]["text"] for o in outputs if o["type"] == "stream" and o["content"]["name"] == name)


def main():
    result = {}
    km = KernelManager(kernel_name="gognn")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=TIMEOUT)
        info = kc.kernel_info(reply=True, timeout=TIMEOUT)["content"]
        result["kernel_info"] = {"protocol_version": info["protocol_version"], "language": info["language_info"]["name"]}

        reply, out = run(kc, 'import "fmt"\nx := 41\nfmt.Println("hello", x)')
        result["first"] = {"status": reply["status"], "count": reply["execution_count"], "stdout": text(out)}

        reply, out = run(kc, 'y := 1\nz := undefinedName + y')
        result["compile_error"] = {"status": reply["status"], "ename": reply.get("ename"), "evalue": reply.get("evalue"),
                                   "count": reply["execution_count"], "error_outputs": sum(o["type"] == "error" for o in out)}

        reply, out = run(kc, 'fmt.Println("next", x+1)\nx * 2')
        results = [o["content"]["data"]["text/plain"] for o in out if o["type"] == "execute_result"]
        result["after_error"] = {"status": reply["status"], "stdout": text(out), "result": results}

        reply, out = run(kc, 'var xs []int\nfmt.Println(xs[3])')
        result["panic"] = {"status": reply["status"], "ename": reply.get("ename"), "evalue": reply.get("evalue"), "count": reply["execution_count"]}

        reply, out = run(kc, 'x := "redeclared"\nfunc twice(n int) int { return 2 * n }\nfmt.Println(x, twice(21))')
        result["redeclare"] = {"status": reply["status"], "stdout": text(out)}

        code = ('import (\n\t"bytes"\n\t"image"\n\t"image/color"\n\t"image/png"\n)\n'
                'img := image.NewRGBA(image.Rect(0, 0, 4, 3))\nimg.Set(1, 1, color.RGBA{255, 0, 0, 255})\n'
                'var buf bytes.Buffer\npng.Encode(&buf, img)\nDisplay(display.PNG(buf.Bytes()))\n'
                'display.HTML("<table><tr><td>1</td></tr></table>")')
        reply, out = run(kc, code)
        mimes = [sorted(o["content"]["data"]) for o in out if o["type"] in ("display_data", "execute_result")]
        result["display"] = {"status": reply["status"], "mimes": mimes}

        # Interrupt: a cell that prints, then sleeps for a minute.
        started = {}

        def on_output(msg):
            if msg["msg_type"] == "stream" and "sleeping" in msg["content"]["text"] and "t" not in started:
                started["t"] = time.monotonic()
                km.interrupt_kernel()

        reply, out = run(kc, 'import "time"\nfmt.Println("sleeping")\ntime.Sleep(time.Minute)\nfmt.Println("woke")', on_output)
        done = time.monotonic()
        result["interrupt"] = {"status": reply["status"], "ename": reply.get("ename"),
                               "seconds": round(done - started["t"], 3) if "t" in started else None,
                               "woke": "woke" in text(out)}

        # The same through an interrupt_request on the control channel (interrupt_mode "message").
        started.clear()

        def on_output_msg(msg):
            if msg["msg_type"] == "stream" and "sleeping" in msg["content"]["text"] and "t" not in started:
                started["t"] = time.monotonic()
                kc.control_channel.send(kc.session.msg("interrupt_request", {}))

        reply, out = run(kc, 'import "time"\nfmt.Println("sleeping")\ntime.Sleep(time.Minute)', on_output_msg)
        result["interrupt_message"] = {"status": reply["status"], "ename": reply.get("ename"),
                                       "seconds": round(time.monotonic() - started["t"], 3) if "t" in started else None}

        reply, out = run(kc, 'fmt.Println("still", x)')
        result["after_interrupt"] = {"status": reply["status"], "stdout": text(out)}

        # Standard input: a read sends an input_request when the frontend allows stdin; the next
        # cell's run answers the first cell's read again without asking; without allow_stdin a
        # read gets end-of-file at once.
        code = ('import (\n\t"bufio"\n\t"os"\n)\nin := bufio.NewReader(os.Stdin)\nfmt.Print("name? ")\n'
                'name, _ := in.ReadString(\'\\n\')\nfmt.Printf("hello %q\\n", name)')
        reply, out, prompts = run_with_input(kc, code, ["Ada"])
        result["stdin"] = {"status": reply["status"], "stdout": text(out), "prompts": prompts}
        reply, out, prompts = run_with_input(kc, 'city, _ := in.ReadString(\'\\n\')\nfmt.Printf("%s from %q\\n", name[:3], city)', ["Paris"])
        result["stdin_next"] = {"status": reply["status"], "stdout": text(out), "prompts": prompts}
        t0 = time.monotonic()
        reply, out, prompts = run_with_input(kc, '_, err := in.ReadString(\'\\n\')\nfmt.Println("no stdin:", err)', [], allow_stdin=False)
        result["stdin_denied"] = {"status": reply["status"], "stdout": text(out), "prompts": prompts,
                                  "seconds": round(time.monotonic() - t0, 3)}

        msg_id = kc.complete("fmt.Pri", 7)
        c = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        result["complete"] = {"status": c["status"], "has_println": "Println" in c["matches"], "start": c["cursor_start"], "end": c["cursor_end"]}
        msg_id = kc.inspect("fmt.Println", 6)
        c = kc.get_shell_msg(timeout=TIMEOUT)["content"]
        result["inspect"] = {"found": c["found"], "mentions": "Println" in c.get("data", {}).get("text/plain", "")}
    finally:
        t0 = time.monotonic()
        km.shutdown_kernel(now=False)
        result["shutdown"] = {"alive": km.is_alive(), "seconds": round(time.monotonic() - t0, 3)}
        kc.stop_channels()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
