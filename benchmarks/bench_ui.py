"""What a temperature key press costs in the real app, from the key to the table and chart redrawn, in chromium, for a
baseline commit (BEFORE) and the working tree (AFTER), in one run.

Both apps are served by `streamlit run app.py` on their own ports; each scenario gets its own browser context per
side, and the measurements interleave (scenario by scenario, the side that goes first alternating) so a noisy machine
hurts both sides alike. Each page is measured the way its T slider works:

- the SERVER path (a Streamlit slider: the page reruns and sends the new table and chart): focus the slider's thumb,
  press ArrowRight (then ArrowLeft next time, so T moves between two stops), and time from the keydown to the
  `[data-testid=stApp]` script state going `running` → `notRunning`, both stamped in the page. Each press is also
  split: until the server begins the rerun, the rest, and how long the page's JavaScript was busy in long tasks
  (> 50 ms: React and Plotly drawing what the rerun sent) meanwhile.
- the CLIENT path (the explorer, `ui/explorer.py`: the table and chart are redrawn in the browser): the same keys on
  its slider, stamped three times in the page: the keydown, the end of the explorer's handler (softmax over every
  class, table and chart rewritten: "drawn") and the first task after the next animation frame (painted). Between
  presses the page is left to settle, so the settings the explorer sends to Python 150 ms after the keys pause, and
  the rerun they cause, never overlap the next press.

Which path a page has is read from the page (an explorer there or not), so any two commits compare.

Scenarios: Home's live demo (coffee, 1,000 classes); the Image Inspector with its default sample (one image), with
five sample images uploaded, and with a 50,000-class checkpoint (resnet18, float16, 74 MB) uploaded in the sidebar;
the Logits Lab with its first example (3 classes) and with a 1,000-class table imported as CSV; the Evaluation page
with a 50,000 x 1,000 results file uploaded (tests/synthetic.py; each side gets the format it reads: compact Parquet
for AFTER, one column per logit for BEFORE; both servers allow 2,000 MB uploads). For it the report adds the time
from the upload to the page being ready and the server's RSS then (VmRSS and its peak, VmHWM, from /proc).

    python benchmarks/bench_ui.py [--reps 20] [--warmup 3] [--before af34289] [--scenarios home,lab-default,...]

BEFORE is `git archive <ref>` unpacked into a temporary folder (the shared tree's branch never changes); af34289 is
the last commit with the server path on every page. The goal for issue 20 is AFTER (the client path) p50 <= 50 ms and
p95 <= 100 ms, key press to painted, on every scenario.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.samples import sample_images  # noqa: E402
from tests.server import serving  # noqa: E402

CHROMIUM = os.environ.get("LOGITSCOPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # several pages stay open at once: never slow down the ones not in front
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
SETTLE_MS = 250  # quiet time after a rerun before the next key, so reruns never overlap

# records every change of the app's script state with its time, and the time of the last keydown
OBSERVER = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__states = [];
  window.__keyAt = null;
  document.addEventListener('keydown', () => { window.__keyAt = performance.now(); }, true);
  new MutationObserver((records) => {
    const now = performance.now();
    records.forEach((r, i) => {
      const value = i + 1 < records.length ? records[i + 1].oldValue : app.getAttribute('data-test-script-state');
      window.__states.push([value, now]);
    });
  }).observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']});
  window.__long = [];  // the page's long tasks (> 50 ms of main-thread JavaScript: React, Plotly)
  new PerformanceObserver((list) => {
    list.getEntries().forEach((e) => window.__long.push([e.startTime, e.duration]));
  }).observe({type: 'longtask'});
}"""
# [ms to the end of the rerun, ms to its start, ms of long tasks in between] from the keydown (the end: the
# first `notRunning` after a `running` that followed it); false while not there yet
RERUN_DONE = """() => {
  const t0 = window.__keyAt;
  if (t0 === null) return false;
  let ran = null;
  for (const [state, t] of window.__states) {
    if (t < t0) continue;
    if (state === 'running' && ran === null) ran = t;
    else if (ran !== null && state === 'notRunning') {
      const busy = window.__long.filter(([s, d]) => s + d > t0 && s < t).reduce((a, [s, d]) => a + d, 0);
      return [t - t0, ran - t0, busy];
    }
  }
  return false;
}"""
SETTLED = "() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'"
# the client path: [handler done, next frame] in ms after each keydown (the explorer draws in its own keydown listener,
# inside the component's shadow root; a listener on the document hears the key bubble out after it)
STAMPS = """() => {
  window.__presses = [];
  document.addEventListener('keydown', (e) => { window.__key = e.timeStamp; }, true);  // before the explorer
  document.addEventListener('keydown', () => {  // bubbling out of the explorer: it has drawn by now
    const key = window.__key, handled = performance.now();
    requestAnimationFrame(() => setTimeout(() => window.__presses.push([handled - key, performance.now() - key])));
  });
}"""
COMMIT_WAIT_MS = 200  # past the explorer's 150 ms before it tells Python, so that rerun is waited for too


@contextmanager
def served(root: Path, log_path: Path, *, timeout_s: float = 120) -> Iterator[tuple[str, int]]:
    """`streamlit run app.py` in `root` on a free port; yields its base URL (and pid) once /_stcore/health answers."""
    env = {**os.environ, "LOGITSCOPE_OFFLINE": "1"}
    env.pop("PYTHONPATH", None)  # each tree imports its own `core` (the script's folder comes first)
    flags = ("--server.maxUploadSize=2000",)  # the 50,000-image results file of BEFORE is over 200 MB
    with serving(root, log_path=log_path, env=env, timeout_s=timeout_s, flags=flags) as (url, proc):
        yield url, proc.pid


def server_memory(pid: int) -> str:
    """The server's RSS now and its peak (MB), from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
    return f"RSS {int(fields.get('VmRSS', 0)) / 1024:.0f} MB (peak {int(fields.get('VmHWM', 0)) / 1024:.0f} MB)"


def unpack(ref: str, into: Path) -> Path:
    """The tree of git `ref` under `into` (git archive: no checkout, no worktree in the shared repository)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def wait_settled(page, *, timeout_ms: int) -> None:
    """The script has finished and stayed finished for SETTLE_MS (a rerun can follow a rerun)."""
    page.wait_for_function(SETTLED, timeout=timeout_ms)
    page.wait_for_timeout(SETTLE_MS)
    page.wait_for_function(SETTLED, timeout=timeout_ms)


# --- scenarios: how to bring a fresh page to the state to measure -----------------------------------


def _upload_samples(count: int) -> Callable[..., None]:
    def setup(page, timeout_ms: int, side: str) -> None:
        paths = [str(s.path) for s in sample_images()[:count]]
        page.locator("[data-testid=stMain] [data-testid=stFileUploaderDropzoneInput]").first.set_input_files(paths)
        # several images: a summary table first, each image under its own heading in a tab or below
        page.get_by_role("heading", name=f"Summary of {len(paths)} images").wait_for(timeout=timeout_ms)
        wait_settled(page, timeout_ms=timeout_ms)

    return setup


def _import_classes(count: int) -> Callable[..., None]:
    def setup(page, timeout_ms: int, side: str) -> None:
        rows = "label,logit\n" + "\n".join(f"class {i},{(i * 7919) % 1000 / 100 - 5:.2f}" for i in range(count))
        page.get_by_role("button", name="Import").click()
        page.locator("[data-testid=stPopoverBody] [data-testid=stFileUploaderDropzoneInput]").set_input_files(
            files=[{"name": f"classes{count}.csv", "mimeType": "text/csv", "buffer": rows.encode()}]
        )
        page.get_by_text(f"Loaded {count} classes").first.wait_for(timeout=timeout_ms)
        page.keyboard.press("Escape")  # close the popover
        wait_settled(page, timeout_ms=timeout_ms)

    return setup


def big_checkpoint(classes: int) -> Path:
    """A resnet18 with `classes` outputs (seeded random weights, float16) as safetensors, made once per run."""
    path = Path(tempfile.gettempdir()) / f"logitscope-bench-resnet18-{classes}.safetensors"
    if not path.exists():
        import torch
        import torchvision
        from safetensors.torch import save_file

        torch.manual_seed(0)
        net = torchvision.models.resnet18(weights=None, num_classes=classes).half()
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return path


def _upload_checkpoint(classes: int) -> Callable[..., None]:
    def setup(page, timeout_ms: int, side: str) -> None:
        sidebar = page.locator("[data-testid=stSidebar]")
        model = sidebar.locator("[data-testid=stSelectbox]").filter(has_text="Model").first.locator("input")
        model.fill("Your ")  # the option is last of a long list: type to find it
        # "Your checkpoint…" in the first release (BEFORE), "Your own model…" now
        page.get_by_role("option", name=re.compile(r"^Your (checkpoint|own model)…")).first.click()
        wait_settled(page, timeout_ms=timeout_ms)
        sidebar.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(str(big_checkpoint(classes)))
        # the first render exports and verifies the checkpoint for ONNX Runtime: minutes on a busy machine
        page.get_by_role("slider", name="Temperature T").first.wait_for(timeout=timeout_ms)  # drawn with results
        wait_settled(page, timeout_ms=timeout_ms)

    return setup


def big_results(n: int, side: str) -> Path:
    """A synthetic n x 1,000 results file (tests/synthetic.py, no features): compact for AFTER, one column per
    logit (pandas' default Parquet, as 39afb49 wrote it) for BEFORE; made once per run."""
    path = Path(tempfile.gettempdir()) / f"logitscope-bench-results-{n}-{side}.parquet"
    if not path.exists():
        from core.evaluate.files import results_frame, write_results
        from tests.synthetic import synthetic_result

        result = synthetic_result(n, features=False).result
        if side == "after":
            write_results(result, path, fmt="parquet")
        else:
            results_frame(result).to_parquet(path, index=False)
    return path


def _upload_results(n: int) -> Callable[..., None]:
    def setup(page, timeout_ms: int, side: str) -> None:
        page.locator("[data-testid=stMain]").get_by_text("Load a results file", exact=True).click()
        wait_settled(page, timeout_ms=timeout_ms)
        upload = page.locator("[data-testid=stMain] [data-testid=stFileUploaderDropzoneInput]").first
        upload.set_input_files(str(big_results(n, side)))
        page.get_by_role("slider", name="Temperature T").first.wait_for(timeout=timeout_ms)  # drawn with results
        wait_settled(page, timeout_ms=timeout_ms)

    return setup


@dataclass(frozen=True)
class Scenario:
    title: str
    path: str
    slider: str  # the server path's T slider, by its accessible name (the client path's is the explorer's)
    setup: Callable[..., None] | None = None


SCENARIOS = {
    "home": Scenario("Home · live demo (1,000 classes)", "", "Temperature T"),
    "inspector-1": Scenario("Inspector · coffee (1 image)", "Image_Inspector", "Temperature T"),
    "inspector-5": Scenario("Inspector · 5 images", "Image_Inspector", "Temperature T", _upload_samples(5)),
    "inspector-50k": Scenario(
        "Inspector · 50,000-class checkpoint", "Image_Inspector", "Temperature T", _upload_checkpoint(50_000)
    ),
    "lab-default": Scenario("Lab · first example (3 classes)", "Logits_Lab", "Temperature T (log scale)"),
    "lab-1000": Scenario(
        "Lab · 1,000 classes (imported)", "Logits_Lab", "Temperature T (log scale)", _import_classes(1000)
    ),
    "evaluation-50k": Scenario(
        "Evaluation · 50,000 x 1,000 file", "Dataset_Evaluation", "Temperature T", _upload_results(50_000)
    ),
}


@dataclass(frozen=True)
class Timing:
    """One key press. Server path: ms to the end of its rerun (`total`), until the server began it (`start`), and of
    long tasks meanwhile (`busy`). Client path: ms to the next frame after the redraw (`total`: painted) and to the
    end of the explorer's handler (`start`: drawn); `busy` is 0."""

    total: float
    start: float
    busy: float


def client_press(page, slider, presses: int, *, timeout_ms: int) -> tuple[float, float]:
    """One T key on the explorer's `slider` (STAMPS installed): ms from the keydown to drawn, and to painted.

    `presses` is how many presses the page has seen before this one (ArrowRight, then ArrowLeft, ...)."""
    slider.focus()
    page.keyboard.press("ArrowRight" if presses % 2 == 0 else "ArrowLeft")
    page.wait_for_function(f"() => window.__presses.length === {presses + 1}", polling=5).dispose()
    drawn, painted = page.evaluate("() => window.__presses.at(-1)")
    page.wait_for_timeout(COMMIT_WAIT_MS)
    wait_settled(page, timeout_ms=timeout_ms)
    return float(drawn), float(painted)


class Probe:
    """One open page in one state: presses its T slider's arrows and times the redraws (server or client path)."""

    def __init__(self, browser, url: str, scenario: Scenario, *, timeout_ms: int, side: str, pid: int) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(timeout_ms)
        self.scenario, self.timeout_ms, self.presses = scenario, timeout_ms, 0
        self.page.goto(f"{url}/{scenario.path}")
        self.page.wait_for_selector("[data-testid=stApp]")
        wait_settled(self.page, timeout_ms=timeout_ms)
        self.ready = ""
        if scenario.setup is not None:
            start = time.perf_counter()
            scenario.setup(self.page, timeout_ms, side)
            self.ready = f"ready {time.perf_counter() - start:.1f} s after the setup began; server {server_memory(pid)}"
        explorer = self.page.locator(".lx-root .lx-t-range")
        server = self.page.get_by_role("slider", name=scenario.slider)
        explorer.or_(server).first.wait_for()  # the component mounts just after the script's run: wait for either
        self.client = explorer.count() > 0
        self.slider = explorer.first if self.client else server.first
        self.page.evaluate(STAMPS if self.client else OBSERVER)

    @property
    def path(self) -> str:
        return "client" if self.client else "server"

    def measure(self) -> Timing:
        """One arrow key on the T slider, timed as its path is (see Timing)."""
        if self.client:
            drawn, painted = client_press(self.page, self.slider, self.presses, timeout_ms=self.timeout_ms)
            self.presses += 1
            return Timing(painted, drawn, 0.0)
        key = "ArrowRight" if self.presses % 2 == 0 else "ArrowLeft"
        self.presses += 1
        self.slider.focus()  # a rerun may redraw the thumb: focus it again before each key
        self.page.evaluate("() => { window.__states = []; window.__keyAt = null; window.__long = []; }")
        self.page.keyboard.press(key)
        handle = self.page.wait_for_function(RERUN_DONE, timeout=self.timeout_ms, polling=5)
        total, start, busy = (float(v) for v in handle.json_value())
        wait_settled(self.page, timeout_ms=self.timeout_ms)
        return Timing(total, start, busy)

    def close(self) -> None:
        self.context.close()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def report(
    results: dict[tuple[str, str], list[Timing]],
    failures: dict[tuple[str, str], int],
    sides: list[str],
    paths: dict[tuple[str, str], str],
) -> str:
    head = f"{'scenario':<36}" + "".join(f"{side + ' p50':>13}{side + ' p95':>13}{'n':>5}" for side in sides)
    if len(sides) == 2:
        head += f"{'p50 ratio':>11}"
    lines = [head, "-" * len(head)]
    split = [f"{'where the time goes (p50)':<36}" + "".join(f"{side:>44}" for side in sides)]
    for name, scenario in SCENARIOS.items():
        if not any((name, side) in results for side in sides):
            continue
        row, parts = f"{scenario.title:<36}", f"{scenario.title:<36}"
        p50s = []
        for side in sides:
            timings = results.get((name, side), [])
            ms = [x.total for x in timings]
            p50s.append(percentile(ms, 50))
            failed = failures.get((name, side), 0)
            row += f"{p50s[-1]:>10.0f} ms{percentile(ms, 95):>10.0f} ms{len(ms):>5}" + (
                f" ({failed} failed)" if failed else ""
            )
            start = percentile([x.start for x in timings], 50)
            if paths.get((name, side)) == "client":
                parts += f"  client: drawn {start:5.1f} · painted {p50s[-1]:5.1f}".rjust(44)
            else:
                rerun = percentile([x.total - x.start for x in timings], 50)
                busy = percentile([x.busy for x in timings], 50)
                parts += f"  server: start {start:4.0f} · rerun {rerun:4.0f} · JS {busy:4.0f}".rjust(44)
        if len(sides) == 2:
            row += f"{p50s[1] / p50s[0]:>10.2f}x" if p50s[0] > 0 else ""
        lines.append(row)
        split.append(parts)
    legend = (
        "server: key press to the end of the rerun it causes (start: to the server's rerun beginning; rerun: from "
        "there to its end as the page sees it; JS: long tasks (> 50 ms) of the page's JavaScript in all that). "
        "client: key press to the explorer's handler done (drawn: softmax, table and chart rewritten) and to the "
        "first task after the next frame (painted)."
    )
    return "\n".join([*lines, "", *split, legend])


def load() -> str:
    """The machine's load now: the 1-minute load average and the number of CPUs (the figures are only as quiet)."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=20, help="measured key presses per scenario and side")
    parser.add_argument("--warmup", type=int, default=3, help="key presses first, not counted")
    parser.add_argument("--before", default="af34289", help="git ref of BEFORE (default: af34289, the server path)")
    parser.add_argument("--before-dir", type=Path, help="use this unpacked tree as BEFORE instead of --before")
    parser.add_argument("--sides", default="before,after", help="before, after or both (comma-separated)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {list(SCENARIOS)}")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for one page state or rerun")
    parser.add_argument("--logs", type=Path, default=ROOT / "artifacts", help="where the server logs go")
    args = parser.parse_args()
    sides = [s for s in args.sides.split(",") if s]
    names = [s for s in args.scenarios.split(",") if s]
    unknown = [n for n in names if n not in SCENARIOS] + [s for s in sides if s not in ("before", "after")]
    if unknown:
        parser.error(f"unknown: {unknown}")
    timeout_ms = int(args.timeout * 1000)
    args.logs.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with ExitStack() as stack:
        roots = {"after": ROOT}
        if "before" in sides:
            if args.before_dir:
                roots["before"] = args.before_dir
            else:
                tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="logitscope-before-")))
                roots["before"] = unpack(args.before, tmp)
        servers = {side: stack.enter_context(served(roots[side], args.logs / f"bench-ui-{side}.log")) for side in sides}
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        stack.callback(browser.close)
        print(
            f"BEFORE = {args.before_dir or args.before}, AFTER = working tree; {args.reps} reps, {args.warmup} warm-up"
        )
        print(f"at the start: {load()}", flush=True)
        probes: dict[tuple[str, str], Probe] = {}
        for name in names:
            for side in sides:
                print(f"  preparing {name} · {side} …", flush=True)
                url, pid = servers[side]
                probes[name, side] = Probe(browser, url, SCENARIOS[name], timeout_ms=timeout_ms, side=side, pid=pid)
                stack.callback(probes[name, side].close)
                if probes[name, side].ready:
                    print(f"    {probes[name, side].ready}", flush=True)
        results: dict[tuple[str, str], list[Timing]] = {key: [] for key in probes}
        failures: dict[tuple[str, str], int] = {}
        for rep in range(args.warmup + args.reps):
            for name in names:
                order = sides if rep % 2 == 0 else sides[::-1]
                for side in order:
                    try:
                        timing = probes[name, side].measure()
                    except Exception as exc:  # a timed-out rerun is reported, not fatal
                        failures[name, side] = failures.get((name, side), 0) + 1
                        print(f"  {name} · {side}: {type(exc).__name__}: {str(exc).splitlines()[0]}", flush=True)
                        continue
                    if rep >= args.warmup:
                        results[name, side].append(timing)
        paths = {key: probe.path for key, probe in probes.items()}
        print()
        print(f"at the end: {load()}")
        print("ms from a T key press to the table and chart redrawn (p50 / p95 over the measured presses); the path:")
        print("  " + ", ".join(f"{name} · {side}: {path}" for (name, side), path in paths.items()))
        print(report(results, failures, sides, paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
