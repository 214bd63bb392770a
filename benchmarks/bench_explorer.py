"""What a temperature key press costs with the client-side explorer, next to the server path, in chromium, one run.

The page is tests/browser/apps/explorer_app.py: EfficientNet-Lite0's logits for coffee.png (1,000 classes) or
50,000 seeded logits. CLIENT is the explorer (ui/explorer.py): a key on its T slider redraws the table and chart in
the browser. SERVER is the same page the old way (st.select_slider → st.dataframe + Plotly), timed as bench_ui
times it: from the keydown to the end of the rerun it causes.

For CLIENT each press is stamped three times in the page: the keydown (its event time), the end of the explorer's
handler (table and chart rewritten, after the explorer's own keydown listener, which draws synchronously), and the
first task after the next animation frame (the new table and chart painted). Between presses the page is left to
settle, so the settings the explorer sends to Python (150 ms after the keys pause) and that rerun never overlap the
next press. Figures on a shared 2-core machine are noisy: compare the columns of one run, not runs.

    python benchmarks/bench_explorer.py [--reps 30] [--warmup 3] [--sides client,server] [--cases 1000,50000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_ui import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    OBSERVER,
    RERUN_DONE,
    STAMPS,
    client_press,
    percentile,
    wait_settled,
)
from tests.server import serving  # noqa: E402

CASES = {"1000": "case=coffee", "50000": "case=large"}
APP = "tests/browser/apps/explorer_app.py"


class ClientProbe:
    """One page with the explorer: times T key presses until redrawn and painted, in the page (bench_ui's measure)."""

    def __init__(self, browser, url: str, query: str, *, timeout_ms: int) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(timeout_ms)
        self.page.goto(f"{url}/?{query}")
        self.root = self.page.locator(".lx-root")
        self.root.locator("tbody tr").first.wait_for()
        wait_settled(self.page, timeout_ms=timeout_ms)
        self.page.evaluate(STAMPS)
        self.slider, self.timeout_ms, self.presses = self.root.locator(".lx-t-range"), timeout_ms, 0

    def measure(self) -> tuple[float, float]:
        before = json.loads(self.root.get_attribute("data-state") or "{}")["temperature"]
        timing = client_press(self.page, self.slider, self.presses, timeout_ms=self.timeout_ms)
        self.presses += 1
        after = json.loads(self.root.get_attribute("data-state") or "{}")["temperature"]
        if after == before:
            raise RuntimeError(f"the key did not move T (still {before})")
        return timing

    def close(self) -> None:
        self.context.close()


class ServerProbe:
    """One page with the server path: times T key presses to the end of their rerun (bench_ui's measure)."""

    def __init__(self, browser, url: str, query: str, *, timeout_ms: int) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(timeout_ms)
        self.page.goto(f"{url}/?{query}&path=server")
        self.slider = self.page.get_by_role("slider", name="Temperature T").first
        self.slider.wait_for()
        wait_settled(self.page, timeout_ms=timeout_ms)
        self.page.evaluate(OBSERVER)
        self.timeout_ms, self.presses = timeout_ms, 0

    def measure(self) -> float:
        self.slider.focus()
        self.page.evaluate("() => { window.__states = []; window.__keyAt = null; window.__long = []; }")
        self.page.keyboard.press("ArrowRight" if self.presses % 2 == 0 else "ArrowLeft")
        self.presses += 1
        total = self.page.wait_for_function(RERUN_DONE, polling=5).json_value()[0]
        wait_settled(self.page, timeout_ms=self.timeout_ms)
        return float(total)

    def close(self) -> None:
        self.context.close()


def _cell(values: list[float]) -> str:
    return f"{percentile(values, 50):8.1f} /{percentile(values, 95):7.1f}" if values else f"{'—':>16}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=30, help="measured key presses per case and side")
    parser.add_argument("--warmup", type=int, default=3, help="key presses first, not counted")
    parser.add_argument("--sides", default="client,server", help="client, server or both (comma-separated)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated class counts, of {list(CASES)}")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for a page state or a rerun")
    args = parser.parse_args()
    sides, cases = args.sides.split(","), args.cases.split(",")
    if set(sides) - {"client", "server"} or set(cases) - set(CASES):
        parser.error(f"sides are client/server, cases {list(CASES)}")
    timeout_ms = int(args.timeout * 1000)

    from playwright.sync_api import sync_playwright

    env = {**os.environ, "LOGITSCOPE_OFFLINE": "1"}
    log = ROOT / "artifacts" / "bench-explorer.log"
    with serving(ROOT, log_path=log, env=env, script=APP) as (url, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        probes: dict[tuple[str, str], ClientProbe | ServerProbe] = {}
        for case in cases:
            for side in sides:
                print(f"  preparing {case} classes · {side} …", flush=True)
                kind = ClientProbe if side == "client" else ServerProbe
                probes[case, side] = kind(browser, url, CASES[case], timeout_ms=timeout_ms)
        results: dict[tuple[str, str], list] = {key: [] for key in probes}
        for rep in range(args.warmup + args.reps):
            for key, probe in probes.items():
                timing = probe.measure()
                if rep >= args.warmup:
                    results[key].append(timing)
        for probe in probes.values():
            probe.close()
        browser.close()

    print(f"\nms from a T key press until redrawn, p50 / p95 over {args.reps} presses ({args.warmup} warm-up)")
    head = f"{'classes':>8}  {'client: drawn':>16}  {'client: painted':>16}  {'server: rerun end':>17}"
    print(head + "\n" + "-" * len(head))
    for case in cases:
        client = results.get((case, "client"), [])
        server = results.get((case, "server"), [])
        row = f"{int(case):>8,}  {_cell([c[0] for c in client])}  {_cell([c[1] for c in client])}  {_cell(server)}"
        print(row)
    print(
        "drawn: keydown → the explorer's handler done (softmax over every class, table and chart rewritten); "
        "painted: → the first task after the next frame; server: keydown → the end of the rerun (bench_ui's measure)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
