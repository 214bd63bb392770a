"""The skeleton every one-file HTML report shares: the page, its CSS and Content-Security-Policy, escaped tables,
pictures as data URIs and Plotly charts with plotly.js inlined once.

A report is ONE self-contained file to hand over by e-mail: plotly.js is inlined once (with the first
chart; the others reuse it), pictures are data URIs, there are no fonts, links or scripts from elsewhere,
and a Content-Security-Policy forbids the browser any request at all. The charts stay interactive (hover,
zoom); printed, each image starts a new A4 page and the charts are sized to fit its width.

Every name that came from outside (file names, labels, model names) is HTML-escaped here, once.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from datetime import datetime

import plotly.graph_objects as go
import plotly.io as pio
from PIL import Image

from core.i18n import t

# A4 is 210 mm wide; with 12 mm margins that is 186 mm, about 700 CSS px at 96 px per inch
CHART_WIDTH = 700
# the browser may run the inline scripts and show data: pictures, and fetch nothing (no network, no files)
_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)
_PLOTLY_CONFIG = {"displaylogo": False, "responsive": False}

_CSS = """
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       color: #1f2328; margin: 0 auto; max-width: 760px; padding: 24px 16px; line-height: 1.45; }
h1 { font-size: 1.6em; margin: 0 0 4px; } h2 { font-size: 1.3em; margin: 28px 0 8px; word-break: break-all; }
h3 { font-size: 1.05em; margin: 18px 0 6px; }
.meta { color: #57606a; font-size: 0.9em; margin: 0 0 12px; }
.meta dt { font-weight: 600; float: left; clear: left; margin-right: 6px; } .meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid #d0d7de; padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.pictures { display: flex; gap: 16px; flex-wrap: wrap; }
figure { margin: 0; max-width: 340px; } figure img { max-width: 340px; max-height: 340px; border: 1px solid #d0d7de; }
figcaption { font-size: 0.85em; color: #57606a; }
img.model-input { image-rendering: pixelated; }
.chart { width: 700px; margin: 8px 0; break-inside: avoid; page-break-inside: avoid; }
.status-pass { color: #1a7f37; } .status-warn { color: #9a6700; } .status-fail, .error { color: #cf222e; }
ul.checks { list-style: none; padding-left: 0; } ul.checks li { margin: 2px 0; }
.footer { color: #57606a; font-size: 0.8em; margin-top: 32px; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; padding: 0; }
  section.page { break-before: page; page-break-before: always; }
  section.page:first-of-type { break-before: auto; page-break-before: auto; }
  table, figure, .pictures { break-inside: avoid; page-break-inside: avoid; }
  .modebar-container { display: none !important; }
}
"""


def esc(text: object) -> str:
    """HTML-escape anything for text or an attribute (quotes included)."""
    return html.escape(str(text), quote=True)


def data_uri(image: Image.Image, *, fmt: str = "PNG") -> str:
    """A PIL image as a data: URI (PNG keeps every pixel, JPEG keeps photos small)."""
    buffer = io.BytesIO()
    picture = image.convert("RGB") if fmt == "JPEG" and image.mode not in ("RGB", "L") else image
    picture.save(buffer, format=fmt, **({"quality": 88} if fmt == "JPEG" else {}))
    mime = "image/jpeg" if fmt == "JPEG" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


class Charts:
    """Turns figures into <div>s for one report; plotly.js goes inline with the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def html(self, fig: go.Figure) -> str:
        sized = go.Figure(fig)  # a copy: the caller's figure keeps its own size
        sized.update_layout(width=CHART_WIDTH, autosize=False)
        self.count += 1
        div = pio.to_html(
            sized,
            full_html=False,
            include_plotlyjs=self.count == 1,
            include_mathjax=False,
            div_id=f"chart-{self.count}",  # stable ids: the same input gives the same file
            config=_PLOTLY_CONFIG,
        )
        return f'<div class="chart">{div}</div>'


def table_html(header: Sequence[str], rows: Sequence[Sequence[object]], *, numeric: Sequence[int] = ()) -> str:
    """An HTML table with every cell escaped; columns in `numeric` are right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            cells.append(f"<td{cls}>{value.html if isinstance(value, Raw) else esc(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class Raw:
    """Markup this module built itself (a thumbnail <img>), put into a table cell unescaped."""

    def __init__(self, markup: str) -> None:
        self.html = markup


def meta_html(items: Sequence[tuple[str, object]]) -> str:
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    return f'<dl class="meta">{rows}</dl>'


def document(title: str, body: str, *, lang: str, generated: datetime, head: str = "") -> str:
    html_lang = "zh-CN" if lang == "zh" else "en"
    footer = t("report.footer", lang, when=generated.strftime("%Y-%m-%d %H:%M UTC"))
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n{head}</head>\n<body>\n"
        f'{body}\n<p class="footer">{esc(footer)}</p>\n</body>\n</html>\n'
    )


def percent(value: float) -> str:
    return f"{value:.2%}"


def report_file_name(stem: str) -> str:
    """A download name, e.g. "logitscope_report_coffee.html"."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem).strip("._")[:80]
    return f"logitscope_report_{safe or 'images'}.html"
