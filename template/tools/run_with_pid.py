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
    if sys.platform == "darwin":
        return _macos_traced()
    return None


def _macos_traced() -> bool | None:
    """P_TRACED from sysctl(CTL_KERN, KERN_PROC, KERN_PROC_PID, pid): the flag
    macOS sets while a debugger is attached."""
    import ctypes

    ctl_kern, kern_proc, kern_proc_pid, p_traced = 1, 14, 1, 0x800
    kinfo_proc_size, p_flag_offset = 648, 32  # struct kinfo_proc on 64-bit macOS
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        mib = (ctypes.c_int * 4)(ctl_kern, kern_proc, kern_proc_pid, os.getpid())
        buf = ctypes.create_string_buffer(kinfo_proc_size)
        size = ctypes.c_size_t(kinfo_proc_size)
        if libc.sysctl(mib, 4, buf, ctypes.byref(size), None, 0) != 0:
            return None
    except Exception:  # no sysctl here: the caller falls back to waiting
        return None
    flags = int.from_bytes(buf.raw[p_flag_offset : p_flag_offset + 4], sys.byteorder)
    return bool(flags & p_traced)


def wait_for_debugger(seconds: float) -> None:
    attached = native_debugger_attached()
    if attached is None:  # the platform cannot tell: give the attach a moment
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
