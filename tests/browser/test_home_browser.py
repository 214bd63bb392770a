"""The home page in a real browser: it loads, shows the pipeline and links, names the pages in the sidebar
menu, and switches language (the menu's titles too); its live demo's T moves by keyboard in the browser and shows
torch's softmax of the server's logits."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, wait_for_app
from tests.browser.explorer_checks import GRID, ONE, check_view, csv_logits, press, view_state

NAV = "[data-testid=stSidebarNav] [data-testid=stSidebarNavLink]"


def nav_titles(page) -> list[str]:
    return [text.strip() for text in page.locator(NAV).all_inner_texts()]


def test_home_page_loads_and_switches_to_chinese(app_url, page):
    page.goto(app_url)
    wait_for_app(page)
    assert page.get_by_role("heading", name="logitscope").is_visible()
    assert page.get_by_text("Softmax never changes the ranking").is_visible()
    # the pipeline picture (graphviz draws it after the script run: wait for its svg)
    page.locator("[data-testid=stGraphVizChart] svg").first.wait_for(timeout=60_000)
    assert page.locator("[data-testid=stGraphVizChart] svg").count() == 1
    assert page.get_by_role("link", name="Image Inspector").count() >= 1
    # the sidebar menu names every page (the home page no longer shows as "app")
    assert [t.split("\n")[-1] for t in nav_titles(page)] == [
        "Home",
        "Image Inspector",
        "Logits Lab",
        "Dataset Evaluation",
    ]
    assert page.title() == "Home · logitscope"
    screenshot(page, "home-en")

    page.get_by_text("中文", exact=True).click()
    wait_for_app(page)
    page.get_by_text("softmax 从不改变排序").wait_for()
    # the same rerun renames the menu and the home page's links
    assert [t.split("\n")[-1] for t in nav_titles(page)] == ["首页", "图像检查器", "Logits 实验室", "数据集评估"]
    assert page.locator("[data-testid=stMain]").get_by_role("link", name="图像检查器").count() == 1
    screenshot(page, "home-zh")


def test_menu_links_open_the_pages_at_their_old_addresses(app_url, page):
    page.goto(app_url)
    wait_for_app(page)
    page.locator(NAV, has_text="Logits Lab").click()
    page.wait_for_url("**/Logits_Lab**")
    wait_for_app(page)
    assert page.get_by_role("heading", name="Logits Lab").is_visible()
    assert page.title() == "Logits Lab · logitscope"
    for path, heading in (("Image_Inspector", "Image Inspector"), ("Dataset_Evaluation", "Dataset Evaluation")):
        page.goto(f"{app_url}/{path}")
        wait_for_app(page)
        assert page.get_by_role("heading", name=heading).first.is_visible(), path


def test_a_page_opened_first_on_a_fresh_server_runs_through_the_router(fresh_app_url, page):
    # Streamlit's old multipage mode would serve pages/2_Logits_Lab.py alone (menu "app", no page config)
    page.goto(f"{fresh_app_url}/Logits_Lab?logits=1,2,3")
    wait_for_app(page)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=stSidebarNav] [data-testid=stSidebarNavLink]').length === 4"
    )
    assert [t.split("\n")[-1] for t in nav_titles(page)] == [
        "Home",
        "Image Inspector",
        "Logits Lab",
        "Dataset Evaluation",
    ]
    assert page.title() == "Logits Lab · logitscope"
    assert page.get_by_role("heading", name="Logits Lab").is_visible()
    assert page.get_by_text("Source: shared link").count() >= 1  # the link's table, not the first example


def test_home_live_demo_moves_t_by_keyboard_in_the_browser(app_url, page):
    # the oracle: the logits the server holds for coffee.png, exactly, from the Inspector's CSV (the Home demo and
    # the Inspector share the one analysis cache, so it is the same tensor)
    page.goto(f"{app_url}/Image_Inspector")
    wait_for_app(page)
    with page.expect_download() as download:
        page.locator("[data-testid=stMain]").get_by_role("button", name="All logits (CSV)").click()
    z, labels, _ = csv_logits(Path(download.value.path()))
    assert labels[int(z.argmax())] == "espresso"

    page.goto(app_url)
    wait_for_app(page)
    root = page.locator(".lx-root")
    root.locator("tbody tr").first.wait_for()
    expect(root.locator(".lx-k")).to_be_hidden()  # the demo's top-5 has no k control
    check_view(root, z, labels, temperature=1.0, k=5)
    for key, index in [("ArrowRight", ONE + 1), ("ArrowRight", ONE + 2), ("PageDown", ONE - 3), ("Home", 0)]:
        press(root, ".lx-t-range", key)
        check_view(root, z, labels, temperature=GRID[index], k=5)  # redrawn in the browser: no rerun to wait for
    press(root, ".lx-t-range", "End")
    check_view(root, z, labels, temperature=GRID[-1], k=5)
    screenshot(page, "home-live-t20")
    # another photo: the server sends its logits, the explorer keeps the T the user left
    wait_for_app(page)
    page.get_by_role("radio", name="cat").or_(page.get_by_role("button", name="cat")).first.click()
    wait_for_app(page)
    expect(root.locator("tbody tr").first.locator("td").nth(1)).to_have_text(re.compile("tabby|tiger cat|Egyptian cat"))
    expect(root.locator(".lx-t-range")).to_have_attribute("aria-valuetext", "T = 20")
    assert view_state(root)["temperature"] == 20
