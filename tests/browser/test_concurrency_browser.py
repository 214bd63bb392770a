"""Eight browser sessions on the Image Inspector at once, each uploading a different real photo.

Each session must see its own photo's name and its own top-1 class, the one the model gives that photo
when it is analysed alone (the oracle, computed here with core.analysis): no session sees another's result.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

from core.analysis import analyse
from core.labels import builtin_labels
from core.samples import sample_images
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

SESSIONS = 8
SETTLED = "() => document.querySelector('[data-testid=stApp]').getAttribute('data-test-script-state') === 'notRunning'"


async def _session(browser, url: str, path, name: str) -> str:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(600_000)  # eight sessions on a shared 2-core machine: slow, not wrong
    await page.goto(f"{url}/Image_Inspector")
    await page.wait_for_function(SETTLED)
    await page.locator("[data-testid=stFileUploaderDropzoneInput]").first.set_input_files(path)
    await page.get_by_role("heading", name=name).first.wait_for()
    await page.wait_for_timeout(300)
    await page.wait_for_function(SETTLED)
    block = page.locator("[data-testid=stCode]").filter(has_text=re.compile(r"^1\. ")).first  # "1. espresso (95.7%)"
    await block.wait_for()
    lines = await block.inner_text()
    await context.close()
    return lines.split("\n")[0]


async def _all(url: str, photos) -> list[str]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            return list(await asyncio.gather(*(_session(browser, url, p.path, p.path.name) for p in photos)))
        finally:
            await browser.close()


def test_eight_sessions_each_see_their_own_top1(app_url, browser, lite0) -> None:
    # `browser` only makes this test skip (or fail in CI) where chromium is missing; sessions use their own
    photos = list(sample_images())[:SESSIONS]
    assert len(photos) == SESSIONS
    labels = builtin_labels("imagenet")
    expected = {}
    for photo in photos:
        logits = analyse(lite0, photo.path.name, photo.path.read_bytes()).logits
        assert logits is not None
        expected[photo.path.name] = labels[int(logits.argmax())]
    # the session's sync Playwright owns this thread's event loop: the async sessions run in their own thread
    with ThreadPoolExecutor(max_workers=1) as pool:
        tops = pool.submit(asyncio.run, _all(app_url, photos)).result(timeout=1200)
    for photo, top in zip(photos, tops, strict=True):
        assert top.startswith(f"1. {expected[photo.path.name]} ("), (photo.path.name, top)
    assert len(set(expected.values())) >= 5  # the photos really differ, so cross-talk would show
