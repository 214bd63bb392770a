"""The home page in a real browser: it loads, shows the pipeline and links, and switches language."""

from __future__ import annotations

from tests.browser.conftest import screenshot, wait_for_app


def test_home_page_loads_and_switches_to_chinese(app_url, page):
    page.goto(app_url)
    wait_for_app(page)
    assert page.get_by_role("heading", name="logitscope").is_visible()
    assert page.get_by_text("Softmax never changes the ranking").is_visible()
    assert page.locator("[data-testid=stGraphVizChart] svg").count() == 1  # the pipeline picture
    assert page.get_by_role("link", name="Image Inspector").count() >= 1
    screenshot(page, "home-en")

    page.get_by_text("中文", exact=True).click()
    wait_for_app(page)
    page.get_by_text("softmax 从不改变排序").wait_for()
    screenshot(page, "home-zh")
