"""A real `streamlit run app.py` on a free loopback port, for the browser tests and the UI benchmarks.

    with serving(ROOT, log_path=Path("server.log")) as (url, proc):
        ...  # url answers /_stcore/health

Started headless, without usage statistics or a file watcher; stopped (terminate, then kill) when the block
ends. Imports nothing of Streamlit: it runs it as a process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

SERVER_FLAGS = (
    "--server.address=127.0.0.1",
    "--server.headless=true",
    "--browser.gatherUsageStats=false",
    "--server.fileWatcherType=none",
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    root: Path,
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 120,
    script: str = "app.py",
    flags: Sequence[str] = (),
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run `streamlit run <script>` in `root`; yield (base URL, process) once /_stcore/health answers 200.

    Args:
        root: the tree whose `script` runs (its folder comes first on the path, so it imports its own code).
        log_path: where the server's stdout and stderr go; a failed start quotes its end.
        env: the server's environment (default: this one, offline, unbuffered).
        timeout_s: how long the start may take before RuntimeError.
        flags: more `streamlit run` options, e.g. "--server.maxUploadSize=1000" (MB).
    """
    environment = dict(env) if env is not None else {**os.environ, "LOGITSCOPE_OFFLINE": "1"}
    environment.setdefault("PYTHONUNBUFFERED", "1")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        command = [sys.executable, "-m", "streamlit", "run", script, f"--server.port={port}", *SERVER_FLAGS, *flags]
        proc = subprocess.Popen(command, cwd=root, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_for_health(url, proc, timeout_s, log_path)
            yield url, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _wait_for_health(url: str, proc: subprocess.Popen[bytes], timeout_s: float, log_path: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"streamlit did not start (log {log_path}):\n{tail}")
        time.sleep(0.3)
