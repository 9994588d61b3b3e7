"""Run a Python file after printing this process's PID and waiting for a Rust debugger.

The "Python + Rust" configurations in .vscode/launch.json start this under
debugpy. VS Code sees the PID line and attaches a native debugger (CodeLLDB or
lldb-dap) to this very process; waiting for it first means that breakpoints in
Rust code called early in the script are not missed. Usage::

    python tools/run_with_pid.py path/to/script.py [args...]

``RUST_DEBUGGER_WAIT`` sets the longest wait in seconds (default 30).
"""

from __future__ import annotations

import os
import runpy
import sys
import time

READY_LINE = "pid {pid} is waiting for a Rust debugger"


def native_debugger_attached() -> bool | None:
    """Whether a native debugger is attached; None where the platform cannot tell."""
    if sys.platform.startswith("linux"):
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1]) != 0
        return None
    if sys.platform == "win32":
        import ctypes

        return bool(ctypes.windll.kernel32.IsDebuggerPresent())
    return None


def wait_for_debugger(seconds: float) -> None:
    attached = native_debugger_attached()
    if attached is None:  # e.g. macOS: give the attach a moment instead
        time.sleep(min(seconds, 3.0))
        return
    deadline = time.monotonic() + seconds
    while not attached and time.monotonic() < deadline:
        time.sleep(0.05)
        attached = native_debugger_attached()
    if not attached:
        print("no Rust debugger attached; running anyway", file=sys.stderr, flush=True)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: python tools/run_with_pid.py SCRIPT [ARGS...]")
    print(READY_LINE.format(pid=os.getpid()), flush=True)
    wait_for_debugger(float(os.environ.get("RUST_DEBUGGER_WAIT", "30")))
    script = os.path.abspath(sys.argv[1])
    # Look like `python SCRIPT ARGS...` to the script.
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(script)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
