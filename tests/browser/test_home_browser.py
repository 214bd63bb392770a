"""The home page in a real browser: it loads, shows the pipeline and links, names the pages in the sidebar
menu, and switches language (the menu's titles too)."""

from __future__ import annotations

from tests.browser.conftest import screenshot, wait_for_app

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
