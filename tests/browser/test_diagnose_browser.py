"""The Evaluation page's debugging tools in a real browser: held-out digits with 30 labels moved to a wrong
class folder, uploaded as a zip; the label-error gallery shows, a class filter (the picker, or a click on
the per-class table) narrows it, and a lasso drawn on the embedding map fills a gallery with the images."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.browser.conftest import screenshot, wait_for_app
from tests.test_diagnose import relabelled


def relabelled_zip(path: Path) -> Path:
    labelled, _ = relabelled(30)
    with zipfile.ZipFile(path, "w") as archive:
        for name in labelled.files:
            archive.writestr(name, labelled.reader.read(name))
    return path


def issue_cards(main) -> int:
    return main.get_by_text("the model says:", exact=False).count()


def settled_cards(page, main, *, fewer_than: int) -> list[str]:
    """The cards' texts once the gallery has redrawn with fewer than `fewer_than` cards (10 s at most)."""
    for _ in range(50):
        wait_for_app(page)
        if 0 < issue_cards(main) < fewer_than:
            break
        page.wait_for_timeout(200)
    return main.get_by_text("the model says:", exact=False).all_inner_texts()


def cards_of_one_class(page, main, select, name: str) -> None:
    """The gallery, narrowed to class `name`, shows only cards given or said to be that class; then every class
    again."""
    texts = settled_cards(page, main, fewer_than=12)
    assert 0 < len(texts) < 12
    assert all(f"given: {name} " in x or f"says: {name} " in x for x in texts)
    select.click()
    page.get_by_role("option", name="all classes", exact=True).click()
    wait_for_app(page)


def test_label_errors_class_filter_and_lasso_on_the_map(app_url, page, tmp_path) -> None:
    page.goto(f"{app_url}/Dataset_Evaluation")
    wait_for_app(page)
    main = page.locator("[data-testid=stMain]")
    main.get_by_role("button", name="Switch to digits_cnn and evaluate").click()  # selects digits_cnn
    main.get_by_text("Headline metrics").wait_for()
    wait_for_app(page)
    main.get_by_text("Upload a zip", exact=True).click()
    wait_for_app(page)
    page.locator("[data-testid=stFileUploaderDropzoneInput]").set_input_files(relabelled_zip(tmp_path / "d.zip"))
    main.get_by_role("button", name="Evaluate 540 images with digits_cnn").click()
    main.get_by_text("Debug the set").wait_for()
    wait_for_app(page)

    # the likely label errors: a gallery of cards "given: a · the model says: b (p%)"
    main.get_by_role("radio", name="Likely label errors").click()
    wait_for_app(page)
    main.get_by_text("NOT trained on", exact=False).wait_for()
    assert issue_cards(main) == 12
    first = main.get_by_text("the model says:", exact=False).first.inner_text()
    given = first.split(" · ")[0].removeprefix("given: ")

    # a class filter narrows the gallery to that class
    select = main.locator("[data-testid=stSelectbox]").filter(has_text="Show only class")
    select.click()
    page.get_by_role("option", name=f"{given}: {given}", exact=True).click()
    cards_of_one_class(page, main, select, given)

    # clicking a row of the per-class table (weakest class first) filters the galleries to that class
    main.get_by_role("radio", name="Per class").click()
    wait_for_app(page)
    table = main.locator("[data-testid=stDataFrame]").last
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's selection checkbox
    wait_for_app(page)
    chosen = ""
    for _ in range(50):  # the table's selection callback sets the class picker
        chosen = select.locator("input").first.input_value()
        if chosen != "all classes":
            break
        page.wait_for_timeout(200)
    assert chosen != "all classes" and ": " in chosen
    weakest = chosen.split(": ")[0]
    main.get_by_role("radio", name="Likely label errors").click()
    cards_of_one_class(page, main, select, weakest)

    # the embedding map: a lasso around the whole cloud fills the gallery below it
    main.get_by_role("radio", name="Embedding map").click()
    wait_for_app(page)
    chart = main.locator("[data-testid=stPlotlyChart]").filter(has_text="Embedding map")
    chart.locator(".main-svg").first.wait_for()
    chart.scroll_into_view_if_needed()
    area = chart.locator(".nsewdrag").first.bounding_box()
    assert area is not None
    x0, y0, w, h = area["x"], area["y"], area["width"], area["height"]
    page.mouse.move(x0 + 0.05 * w, y0 + 0.1 * h)
    page.mouse.down()
    for fx, fy in ((0.95, 0.1), (0.95, 0.95), (0.05, 0.95), (0.05, 0.11)):
        page.mouse.move(x0 + fx * w, y0 + fy * h, steps=10)
    page.mouse.up()
    main.get_by_text("images selected on the map", exact=False).wait_for()
    wait_for_app(page)
    selected = main.get_by_text("images selected on the map", exact=False).inner_text()
    assert int(selected.split()[0]) > 100
    assert main.get_by_role("button", name="Open", exact=True).count() >= 12
    screenshot(page, "diagnose-map-lasso")
