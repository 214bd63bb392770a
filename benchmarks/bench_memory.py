"""Server memory and first-upload time, measured on a real `streamlit run app.py` with real browsers.

Prints, for a fresh server each:
  * the server's RSS after start, after the first Inspector render, after N distinct uploads in one session
    and after repeated digits evaluations (bounded caches should keep it flat);
  * the first-upload time of 1 session and of 8 sessions at once (each uploads its own real image and must
    see its own correct top-1 class), with the model warm-up at server start off (baseline) and on.

    python benchmarks/bench_memory.py [--uploads 100] [--evaluations 5] [--sessions 1 8] [--quick]

Runs chromium through Playwright (/usr/bin/chromium). Figures on a shared 2-core machine are noisy:
run it quietly, baseline and change side by side in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.server import serving  # noqa: E402

CHROMIUM = os.environ.get("LOGITSCOPE_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
WARM_ENV = "LOGITSCOPE_WARM_START"  # "0" turns the server-start warm-up off (the baseline)

PHOTOS = ("coffee", "chelsea", "camera")  # real photos; each upload's expected top-1 comes from oracle_top1


_ORACLE: list[object] = []


def oracle_top1(path: Path) -> str:
    """The top-1 class of `path` by the default model run here, alone (what the server must show)."""
    from core.analysis import analyse
    from core.labels import builtin_labels
    from core.models.registry import load_model

    if not _ORACLE:
        _ORACLE.append(load_model("efficientnet_lite0"))
    logits = analyse(_ORACLE[0], path.name, path.read_bytes()).logits  # type: ignore[arg-type]
    return builtin_labels("imagenet")[int(logits.argmax())] if logits is not None else "?"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def server(*, warm: bool) -> Iterator[tuple[str, int]]:
    """A fresh `streamlit run app.py` with the model warm-up at start on or off: (base URL, its pid)."""
    env = {**os.environ, "LOGITSCOPE_OFFLINE": "1", WARM_ENV: "1" if warm else "0"}
    with (
        tempfile.TemporaryDirectory() as tmp,
        serving(ROOT, log_path=Path(tmp) / "server.log", env=env) as (url, proc),
    ):
        yield url, proc.pid


def photo_variant(name: str, index: int, folder: Path) -> Path:
    """A distinct upload of a real photo: cropped a few pixels differently, so its bytes (and cache key) differ."""
    from core.samples import sample_path

    image = Image.open(sample_path(name)).convert("RGB")
    dx, dy = index % 7, (index // 7) % 7
    crop = image.crop((dx, dy, image.width - 6 + dx, image.height - 6 + dy))
    path = folder / f"{name}-{index:03d}.png"
    buffer = io.BytesIO()
    crop.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


async def settled(page, timeout_ms: int = 300_000) -> None:
    await page.wait_for_selector("[data-testid=stApp]", timeout=timeout_ms)
    script = (
        "() => document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state') === 'notRunning'"
    )
    await page.wait_for_function(script, timeout=timeout_ms)
    await page.wait_for_timeout(200)
    await page.wait_for_function(script, timeout=timeout_ms)


async def upload_and_wait(page, path: Path, expected: str) -> float:
    """Seconds from choosing the file to its heading and its top-1 class being on the page."""
    start = time.perf_counter()
    await page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(path)
    await page.get_by_role("heading", name=path.name).first.wait_for(timeout=300_000)
    await settled(page)
    seconds = time.perf_counter() - start
    block = page.locator("[data-testid=stCode]").filter(has_text=re.compile(r"^1\. ")).first  # "1. espresso (95.7%)"
    await block.wait_for()
    top1 = (await block.inner_text()).split("\n")[0]
    if not top1.startswith(f"1. {expected} ("):
        raise AssertionError(f"{path.name}: top-1 {top1!r}, expected {expected!r} (cross-talk?)")
    return seconds


async def first_uploads(url: str, sessions: int, folder: Path) -> list[float]:
    """`sessions` browsers open the Inspector, then all upload their own photo at once."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        pages = []
        for _ in range(sessions):
            context = await browser.new_context(viewport={"width": 1400, "height": 1000})
            page = await context.new_page()
            page.set_default_timeout(300_000)  # a loaded 2-core machine: slow is a figure, not a failure
            await page.goto(f"{url}/Image_Inspector")
            pages.append(page)
        await asyncio.gather(*(settled(page) for page in pages))
        names = list(PHOTOS)
        jobs = []
        for i, page in enumerate(pages):
            name = names[i % len(names)]
            path = photo_variant(name, 1000 + i, folder)
            jobs.append(upload_and_wait(page, path, oracle_top1(path)))  # the oracle runs before any timing
        times = await asyncio.gather(*jobs)
        await browser.close()
        return list(times)


async def memory_run(url: str, pid: int, uploads: int, evaluations: int, folder: Path) -> list[tuple[str, float]]:
    from playwright.async_api import async_playwright

    figures = [("after start", rss_mb(pid))]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        page = await context.new_page()
        page.set_default_timeout(600_000)
        await page.goto(f"{url}/Image_Inspector")
        await settled(page)
        figures.append(("after the first Inspector render", rss_mb(pid)))
        names = list(PHOTOS)
        for i in range(uploads):
            # each upload in its own tab (its own session): one image per session keeps its detail view on screen
            name = names[i % len(names)]
            path = photo_variant(name, i, folder)
            expected = oracle_top1(path)
            tab = await context.new_page()
            tab.set_default_timeout(600_000)
            await tab.goto(f"{url}/Image_Inspector")
            await settled(tab)
            await upload_and_wait(tab, path, expected)
            await tab.close()
            if i + 1 in (1, 10, uploads):
                figures.append((f"after {i + 1} distinct uploads", rss_mb(pid)))
        await page.goto(f"{url}/Dataset_Evaluation")
        await settled(page)
        main = page.locator("[data-testid=stMain]")
        await main.get_by_role("button", name="Switch to digits_cnn and evaluate").click()
        await main.get_by_text("Headline metrics").wait_for(timeout=600_000)
        await settled(page)
        figures.append(("after 1 digits evaluation", rss_mb(pid)))
        for i in range(1, evaluations):
            await main.get_by_role("button", name="Evaluate again").click()
            await settled(page, timeout_ms=600_000)
            figures.append((f"after {i + 1} digits evaluations", rss_mb(pid)))
        await browser.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--evaluations", type=int, default=5)
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--quick", action="store_true", help="10 uploads, 2 evaluations, warm start only")
    parser.add_argument("--memory-only", action="store_true", help="skip the first-upload timings")
    args = parser.parse_args()
    if args.quick:
        args.uploads, args.evaluations = 10, 2
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"CPU cores: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f}")
        print("\n== first upload (fresh server per row): seconds from choosing the file to its top-1 ==")
        for warm in [True] if args.quick else [False, True]:
            for sessions in args.sessions:
                with server(warm=warm) as (url, pid):
                    times = asyncio.run(first_uploads(url, sessions, folder))
                    label = "warm start" if warm else "baseline (no warm-up)"
                    print(
                        f"{label:<22} {sessions} session(s): median {sorted(times)[len(times) // 2]:5.1f} s, "
                        f"max {max(times):5.1f} s  [{', '.join(f'{s:.1f}' for s in times)}]  RSS {rss_mb(pid):.0f} MB"
                    )
        print(f"\n== server RSS (warm start): {args.uploads} distinct uploads, {args.evaluations} evaluations ==")
        with server(warm=True) as (url, pid):
            for label, value in asyncio.run(memory_run(url, pid, args.uploads, args.evaluations, folder)):
                print(f"{label:<34} {value:7.0f} MB")


if __name__ == "__main__":
    main()
