"""A Ray cluster for the length of a run: started locally or joined by address, answered in seconds when dead.

A dead address fails in seconds (`check_reachable`), not after Ray's minutes of retries; Ray's own logs and
progress bars are quieted, so a failure reaches the caller as one line.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from core.errors import InputError, LogitscopeError, first_line

CONNECT_TIMEOUT_S = 3.0
INSTALL_HINT = "pip install 'ray[data]'"
_QUIET_LOGGERS = ("ray", "ray.data", "ray.train", "ray.tune")


class RayUnavailableError(InputError):
    """Ray is not installed, or the cluster cannot be reached (the CLI exits 2 with this one line)."""


class RayRunError(LogitscopeError):
    """A Ray run failed part-way (a task or actor died); the message is the cause's first line."""


@dataclass(frozen=True)
class Cluster:
    """The Ray cluster a run uses.

    Attributes:
        address: what was asked for ("" for a local Ray started for the run).
        local: whether this process started it (and shuts it down after).
        startup_seconds: how long connecting or starting took.
        cpus: logical CPUs in the cluster.
        gpus: GPUs in the cluster.
    """

    address: str
    local: bool
    startup_seconds: float
    cpus: int
    gpus: int

    def describe(self) -> str:
        where = "local Ray" if self.local else f"Ray cluster {self.address or '(already connected)'}"
        gpus = f", {self.gpus} GPUs" if self.gpus else ""
        return f"{where}: {self.cpus} CPUs{gpus}, ready in {self.startup_seconds:.1f} s"


def ray_module() -> Any:
    """The `ray` module with Ray Data, or RayUnavailableError saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise RayUnavailableError(f"--runner ray needs Ray Data ({exc}); install it with {INSTALL_HINT}") from None
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    """(host, port) of "ray://host:10001" or "host:6379"; None for "auto" and other forms Ray resolves itself."""
    if address == "auto":
        return None
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    try:
        port = parsed.port
    except ValueError:
        raise RayUnavailableError(f"{address!r} is not a Ray address (auto, host:port or ray://host:port)") from None
    if not parsed.hostname or port is None:
        raise RayUnavailableError(f"{address!r} is not a Ray address (auto, host:port or ray://host:port)")
    return parsed.hostname, port


def check_reachable(address: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """Raise RayUnavailableError unless something accepts a TCP connection at `address` within `timeout_s`.

    `ray.init` retries a dead address for minutes; this answers in seconds.
    """
    target = _host_port(address)
    if target is None:
        return
    try:
        with socket.create_connection(target, timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise RayUnavailableError(f"cannot reach a Ray cluster at {address}: {reason}") from None


def _quiet_logs() -> None:
    # Ray Data logs a failed task's whole stack before it raises; the caller gets the cause in one line
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


@contextmanager
def ray_cluster(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[Cluster]:
    """Connect to Ray for the duration of the block.

    Args:
        address: None starts a local Ray (no dashboard, `num_cpus` logical CPUs, default the machine's cores)
            and shuts it down after; "auto", "host:port" or "ray://host:10001" joins an existing cluster and
            disconnects after. When this process is already connected (a test, a notebook), that connection
            is used as it is and left open (a given address is still checked for an answer).
        num_cpus: CPUs of a local Ray.

    Raises RayUnavailableError (one line) when Ray is missing or the cluster cannot be reached.
    """
    ray = ray_module()
    start = time.perf_counter()
    if address is not None:
        check_reachable(address)
    if ray.is_initialized():
        yield _describe(ray, address or "", local=False, since=start)
        return
    _quiet_logs()
    options: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address is None:
        options.update(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False)
    try:
        ray.init(address=address, **options)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, grpc errors... for a bad cluster
        where = f"a Ray cluster at {address}" if address else "a local Ray"
        raise RayUnavailableError(f"cannot start or join {where}: {first_line(exc)}") from None
    try:
        data_context = ray.data.DataContext.get_current()
        data_context.enable_progress_bars = False  # our own progress line, not Ray's bars
        data_context.print_on_execution_start = False
        yield _describe(ray, address or "", local=address is None, since=start)
    finally:
        ray.shutdown()


def _describe(ray: Any, address: str, *, local: bool, since: float) -> Cluster:
    resources = ray.cluster_resources()
    return Cluster(
        address=address,
        local=local,
        startup_seconds=time.perf_counter() - since,
        cpus=int(resources.get("CPU", 0)),
        gpus=int(resources.get("GPU", 0)),
    )
