"""Prove that the VS Code debug configurations work, with real debug adapters.

``nox -s debug_check`` runs this. It reads ``.vscode/launch.json`` and
``tasks.json``, fills in the VS Code variables (``${workspaceFolder}``,
``${file}``, the selected interpreter) and drives the adapters over the Debug
Adapter Protocol, as VS Code would:

(a) "Rust: Python current file (lldb-dap)": Python is launched under lldb-dap
    with a breakpoint in ``src/lib.rs``; it must stop there, with that file on
    top of the stack.
(b) "Python + Rust: current file (CodeLLDB)": the script starts under debugpy
    and prints its PID; the attach configuration that ``serverReadyAction``
    would open is built from that line and sent to lldb-dap; the Python
    breakpoint is hit, then, after continuing, the Rust one.

Exit status: 0 passed, 1 failed, 77 skipped (no adapter, or ptrace not allowed;
the reason is printed and written to ``--skip-file``).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "mixed_usage.py"
RUST_FILE = ROOT / "src" / "lib.rs"
# Where the breakpoints go: the first line of `dot` (called by `fast_predict`)
# and the line of the example that calls it.
RUST_LINE_TEXT = "if a.len() != b.len() {"
PYTHON_LINE_TEXT = 'print("fast_predict:"'
TIMEOUT = 60.0
SKIP = 77

# Launch-configuration keys that VS Code consumes itself; adapters never see them.
VSCODE_ONLY = {
    "name",
    "type",
    "request",
    "preLaunchTask",
    "postDebugTask",
    "presentation",
    "serverReadyAction",
    "internalConsoleOptions",
}


class Skip(Exception):
    """The check cannot run here (not a failure)."""


class CheckFailed(Exception):
    """The debug set-up did not behave as the configuration promises."""


# --- reading the VS Code files -------------------------------------------------


def load_jsonc(path: Path) -> Any:
    """Parse VS Code's JSON with comments and trailing commas."""
    text, out, i = path.read_text(encoding="utf-8"), [], 0
    while i < len(text):
        ch = text[i]
        if ch == '"':  # copy a string literal verbatim (it may contain //)
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        else:
            out.append(ch)
            i += 1
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", "".join(out)))


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """Replace ``${name}`` variables in every string of a configuration."""
    if isinstance(value, str):
        for name, replacement in variables.items():
            value = value.replace("${" + name + "}", replacement)
        if "${" in value:
            raise CheckFailed(f"unsupported VS Code variable left in {value!r}")
        return value
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def configuration(launch: dict, name: str, variables: dict[str, str]) -> dict:
    for config in launch["configurations"]:
        if config["name"] == name:
            return substitute(config, variables)
    raise CheckFailed(f"launch.json has no configuration named {name!r}")


def line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if text in line:
            return number
    raise CheckFailed(f"{path} has no line containing {text!r}")


def run_task(tasks: dict, label: str, variables: dict[str, str]) -> None:
    """Run a preLaunchTask from tasks.json (type "process")."""
    task = next((t for t in tasks["tasks"] if t["label"] == label), None)
    if task is None:
        raise CheckFailed(f"tasks.json has no task labelled {label!r}")
    # The project's .venv is, here, the virtualenv running this check.
    task = json.loads(json.dumps(task).replace("${workspaceFolder}/.venv", sys.prefix))
    task = substitute(task, variables)
    options = task.get("options", {})
    print(f"task {label!r}: {task['command']} {' '.join(task.get('args', []))}", flush=True)
    subprocess.run(
        [task["command"], *task.get("args", [])],
        cwd=options.get("cwd", str(ROOT)),
        env={**os.environ, **options.get("env", {})},
        check=True,
    )


# --- a minimal Debug Adapter Protocol client --------------------------------------


class Adapter:
    """One debug adapter process, spoken to over stdin/stdout."""

    def __init__(self, name: str, argv: list[str], log: Path) -> None:
        self.name = name
        self.log = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log
        )
        self.seq = 0
        self.messages: queue.Queue[dict] = queue.Queue()
        self.seen: list[dict] = []  # events and responses not consumed yet
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            self._read_messages()
        except (OSError, ValueError) as error:  # broken pipe, bad JSON
            self.messages.put({"type": "eof", "reason": f"unreadable output: {error}"})
        else:
            self.messages.put({"type": "eof", "reason": "the adapter exited"})

    def _read_messages(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                header = stream.readline()
                if not header:  # the adapter exited (lldb-dap may end mid-header)
                    return
                if not header.strip():
                    break
                name, _, value = header.decode("ascii", "replace").partition(":")
                if name.strip().lower() == "content-length" and value.strip().isdigit():
                    length = int(value)
            if length is not None:
                body = stream.read(length)
                if len(body) < length:
                    return
                self.messages.put(json.loads(body))

    def _write(self, message: dict) -> int:
        """Frame and send one message with the next sequence number."""
        self.seq += 1
        body = json.dumps({"seq": self.seq, **message}).encode()
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        stdin.flush()
        return self.seq

    def send(self, command: str, arguments: dict | None = None) -> int:
        message: dict[str, Any] = {"type": "request", "command": command}
        if arguments is not None:
            message["arguments"] = arguments
        return self._write(message)

    def _next(self, match: Callable[[dict], bool], what: str, timeout: float) -> dict:
        for i, message in enumerate(self.seen):
            if match(message):
                return self.seen.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            tail = "".join(self.output[-20:])
            try:
                message = self.messages.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise CheckFailed(
                    f"{self.name}: no {what} within {timeout:.0f} s\n{tail}"
                ) from None
            if message.get("type") == "eof":
                self.messages.put(message)  # later waits fail at once too
                raise CheckFailed(f"{self.name}: {message['reason']} before {what}\n{tail}")
            if message.get("type") == "request":  # a reverse request: decline it
                self._decline(message)
                continue
            if message.get("event") == "output":
                self.output.append(message["body"].get("output", ""))
            if match(message):
                return message
            self.seen.append(message)

    def _decline(self, request: dict) -> None:
        self._write(
            {
                "type": "response",
                "request_seq": request["seq"],
                "command": request["command"],
                "success": False,
            }
        )

    def response(self, seq: int, timeout: float = TIMEOUT) -> dict:
        message = self._next(
            lambda m: m.get("type") == "response" and m.get("request_seq") == seq,
            f"response to request {seq}",
            timeout,
        )
        if not message.get("success"):
            raise CheckFailed(
                f"{self.name}: {message.get('command')} failed: {message.get('message')} "
                f"{json.dumps(message.get('body', {}))}"
            )
        return message.get("body") or {}

    def request(self, command: str, arguments: dict | None = None) -> dict:
        return self.response(self.send(command, arguments))

    def event(self, name: str, where: Callable[[dict], bool] = lambda body: True) -> dict:
        message = self._next(
            lambda m: (
                m.get("type") == "event" and m.get("event") == name and where(m.get("body") or {})
            ),
            f"{name!r} event",
            TIMEOUT,
        )
        return message.get("body") or {}

    def initialize(self, adapter_id: str) -> dict:
        return self.request(
            "initialize",
            {
                "clientID": "debug_check",
                "adapterID": adapter_id,
                "pathFormat": "path",
                "linesStartAt1": True,
                "columnsStartAt1": True,
                "supportsRunInTerminalRequest": False,
            },
        )

    def set_breakpoint(self, path: Path, line: int) -> None:
        """A breakpoint at `line` of `path` (in place of that file's others)."""
        source = {"path": str(path)}
        self.request("setBreakpoints", {"source": source, "breakpoints": [{"line": line}]})

    def top_frames(self, thread_id: int, count: int = 5) -> list[dict]:
        body = self.request("stackTrace", {"threadId": thread_id, "levels": count})
        return body["stackFrames"]

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.send("disconnect", {"terminateDebuggee": True})
                self.process.wait(timeout=10)
            except Exception:  # already gone, or hanging: make sure it stops
                self.process.kill()
        # lldb-dap 19 may abort while shutting down a correct session: its exit
        # status says nothing about the session, so it is not checked.
        self.log.close()


def adapter_args(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in VSCODE_ONLY}


def frame_file(frame: dict) -> str:
    return (frame.get("source") or {}).get("path") or "?"


def describe(frames: list[dict]) -> str:
    return "\n".join(f"    {f['name']}  ({frame_file(f)}:{f.get('line')})" for f in frames)


def expect_top(frames: list[dict], path: Path, line: int, side: str) -> None:
    print(f"  {side} stack:\n{describe(frames)}", flush=True)
    top = frames[0] if frames else {}
    if Path(frame_file(top)).resolve() != path.resolve() or top.get("line") != line:
        raise CheckFailed(f"{side}: expected {path}:{line} on top of the stack")


def clear_breakpoints(dap: Adapter, path: Path) -> None:
    dap.request("setBreakpoints", {"source": {"path": str(path)}, "breakpoints": []})


def permission_problem(error: CheckFailed) -> bool:
    text = str(error).lower()
    return any(s in text for s in ("operation not permitted", "ptrace"))


# --- the two checks ---------------------------------------------------------------


def check_rust_launch(
    lldb_dap: str, launch: dict, tasks: dict, variables: dict, logs: Path
) -> None:
    """(a) Python launched under lldb-dap stops at a breakpoint in src/lib.rs."""
    config = configuration(launch, "Rust: Python current file (lldb-dap)", variables)
    run_task(tasks, config["preLaunchTask"], variables)
    rust_line = line_of(RUST_FILE, RUST_LINE_TEXT)
    dap = Adapter("lldb-dap", [lldb_dap], logs / "lldb-dap-launch.log")
    try:
        dap.initialize("lldb-dap")
        launched = dap.send("launch", adapter_args(config))
        dap.event("initialized")
        dap.set_breakpoint(RUST_FILE, rust_line)
        dap.request("configurationDone")
        try:
            dap.response(launched)
        except CheckFailed as error:
            if permission_problem(error):
                raise Skip(f"lldb-dap cannot start a traced process here: {error}") from None
            raise
        stopped = dap.event("stopped", lambda b: b.get("reason") == "breakpoint")
        expect_top(dap.top_frames(stopped["threadId"]), RUST_FILE, rust_line, "Rust")
        clear_breakpoints(dap, RUST_FILE)  # `dot` runs again for every row later on
        dap.request("continue", {"threadId": stopped["threadId"]})
        exit_code = dap.event("exited").get("exitCode")
        if exit_code != 0:
            raise CheckFailed(f"the debugged script exited with {exit_code}")
    finally:
        dap.close()


def attach_config_from_uri(config: dict, pid: int) -> dict:
    """The attach request that CodeLLDB's URL handler would start for this PID."""
    import yaml  # the URL carries a YAML mapping, as CodeLLDB documents

    action = config["serverReadyAction"]
    uri = action["uriFormat"].replace("%s", str(pid), 1)
    prefix = "vscode://vadimcn.vscode-lldb/launch/config?"
    if not uri.startswith(prefix):
        raise CheckFailed(f"serverReadyAction does not open CodeLLDB's URL handler: {uri}")
    attach = yaml.safe_load(uri[len(prefix) :])
    if attach.get("request") != "attach" or attach.get("pid") != pid:
        raise CheckFailed(f"the URL does not attach to PID {pid}: {attach}")
    # CodeLLDB-only keys mean nothing to lldb-dap.
    return {k: v for k, v in attach.items() if k not in {"request", "sourceLanguages"}}


def check_mixed(lldb_dap: str, launch: dict, tasks: dict, variables: dict, logs: Path) -> None:
    """(b) debugpy stops at a Python breakpoint, lldb-dap attached to the same
    process stops at the Rust breakpoint after continuing."""
    config = configuration(launch, "Python + Rust: current file (CodeLLDB)", variables)
    run_task(tasks, config["preLaunchTask"], variables)
    python_line = line_of(EXAMPLE, PYTHON_LINE_TEXT)
    rust_line = line_of(RUST_FILE, RUST_LINE_TEXT)
    pattern = re.compile(config["serverReadyAction"]["pattern"])

    python = Adapter("debugpy", [sys.executable, "-m", "debugpy.adapter"], logs / "debugpy.log")
    rust: Adapter | None = None
    try:
        python.initialize("debugpy")
        # debugpy answers launch only after configurationDone.
        launched = python.send("launch", {**adapter_args(config), "python": sys.executable})
        python.event("initialized")
        python.set_breakpoint(EXAMPLE, python_line)
        python.request("configurationDone")
        python.response(launched)
        # What serverReadyAction watches for: the PID line on the debug console.
        ready = python.event("output", lambda b: bool(pattern.search(b.get("output", ""))))
        pid = int(pattern.search(ready["output"]).group(1))
        reported = python.event("process").get("systemProcessId")
        if reported is not None and reported != pid:
            raise CheckFailed(f"printed PID {pid} but debugpy runs PID {reported}")
        print(f"  Python side running as PID {pid}; attaching lldb-dap", flush=True)

        rust = Adapter("lldb-dap", [lldb_dap], logs / "lldb-dap-attach.log")
        rust.initialize("lldb-dap")
        attached = rust.send("attach", attach_config_from_uri(config, pid))
        rust.event("initialized")
        try:
            rust.response(attached)
        except CheckFailed as error:
            if permission_problem(error):
                raise Skip(
                    f"ptrace does not allow attaching to PID {pid} ({error}). On Linux, "
                    "allow it with: echo 0 | sudo tee /proc/sys/kernel/yama/ptrace_scope"
                ) from None
            raise
        rust.set_breakpoint(RUST_FILE, rust_line)
        rust.request("configurationDone")  # lldb resumes the process

        stopped = python.event("stopped", lambda b: b.get("reason") == "breakpoint")
        expect_top(python.top_frames(stopped["threadId"], 3), EXAMPLE, python_line, "Python")
        # Do not wait for this answer: once Rust stops the process, debugpy cannot reply.
        python.send("continue", {"threadId": stopped["threadId"]})

        hit = rust.event("stopped", lambda b: b.get("reason") == "breakpoint")
        expect_top(rust.top_frames(hit["threadId"]), RUST_FILE, rust_line, "Rust")
        clear_breakpoints(rust, RUST_FILE)
        rust.request("continue", {"threadId": hit["threadId"]})
        exit_code = python.event("exited").get("exitCode")
        if exit_code != 0:
            raise CheckFailed(f"the debugged script exited with {exit_code}")
    finally:
        if rust is not None:
            rust.close()
        python.close()


def ptrace_scope() -> str | None:
    try:
        return Path("/proc/sys/kernel/yama/ptrace_scope").read_text().strip()
    except OSError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lldb-dap", required=True, help="path of the lldb-dap executable")
    parser.add_argument("--skip-file", type=Path, help="write the reason here when skipping")
    parser.add_argument("--logs", type=Path, default=ROOT / "target" / "debug_check")
    args = parser.parse_args()
    args.logs.mkdir(parents=True, exist_ok=True)

    launch = load_jsonc(ROOT / ".vscode" / "launch.json")
    tasks = load_jsonc(ROOT / ".vscode" / "tasks.json")
    variables = {
        "workspaceFolder": str(ROOT),
        "file": str(EXAMPLE),
        # VS Code's selected interpreter: here, the interpreter running this
        # check (a virtualenv's python, never a pyenv shim).
        "command:python.interpreterPath": sys.executable,
    }
    checks = [
        ("a: Rust breakpoint under lldb-dap launch", check_rust_launch),
        ("b: Python + Rust breakpoints in one process", check_mixed),
    ]
    skipped = []
    for title, check in checks:
        print(f"debug_check {title}", flush=True)
        if ptrace_scope() == "3":
            skipped.append(f"{title}: ptrace is disabled (kernel.yama.ptrace_scope = 3)")
            continue
        try:
            check(args.lldb_dap, launch, tasks, variables, args.logs)
        except Skip as reason:
            skipped.append(f"{title}: {reason}")
            print(f"  skipped: {reason}", flush=True)
        except CheckFailed as error:
            print(f"  FAILED: {error}\n  adapter logs: {args.logs}", file=sys.stderr, flush=True)
            return 1
        else:
            print("  ok", flush=True)
    if skipped:
        if args.skip_file:
            args.skip_file.write_text("; ".join(skipped), encoding="utf-8")
        return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())
