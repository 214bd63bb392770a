"""The explorer inside a one-file HTML report: its CSS, one inline script for the whole page, and per image a box
with the skeleton and the image's data as JSON.

The box is hidden and the section's static table and chart (`class="lx-static"`) are shown, so a reader without
JavaScript, or a tool that reads the HTML, still sees the numbers at the report's T. Once the script runs, it mounts
every box, shows it and hides the static copies (CSS on `section.lx-on`); printing prints the live state.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.explorer.payload import asset, json_script_text
from core.labels import label_of

LABELS_ID = "lx-labels"  # the page's one copy of the label list, shared by every image's explorer

_REPORT_CSS = """
.lx-report { margin: 8px 0 12px; }
section.lx-on .lx-static { display: none; }
"""


def _inline_safe(text: str, *, what: str) -> str:
    # a shipped asset, never user text; checked anyway: "</script", "</style" or "<!--" would upset the parser
    if re.search(r"</(script|style)|<!--", text, re.IGNORECASE):
        raise ValueError(f"the explorer's {what} must not contain </script>, </style> or <!--")
    return text


def explorer_style() -> str:
    """The explorer's <style> element for the report's <head>."""
    return f"<style>{_inline_safe(asset('css') + _REPORT_CSS, what='CSS')}</style>"


# the section's temperature sweep and entropy-vs-T charts (core.charts.prediction) mark the T the reader left:
# the sweep's dashed line is its first shape and annotation, the entropy chart's current point its second trace
_FOLLOW_T = """
mountAll(document, (box, settings) => {
  const t = settings.temperature;
  const state = JSON.parse(box.querySelector('.lx-root').dataset.state);
  const [sweep, entropy] = box.closest('section').querySelectorAll(':scope > .chart .js-plotly-plot');
  if (!window.Plotly || !sweep || !entropy) return;
  const text = `T = ${formatG(t)}`;
  const line = { 'shapes[0].x0': t, 'shapes[0].x1': t, 'annotations[0].x': Math.log10(t), 'annotations[0].text': text };
  Plotly.relayout(sweep, line);
  Plotly.restyle(entropy, { x: [[t]], y: [[state.entropy_bits]], name: text }, [1]);
});
"""


def explorer_script() -> str:
    """The one inline module script that mounts every explorer of the page and has each image's temperature sweep
    and entropy charts follow its T (put it once, at the end of <body>, after plotly.js)."""
    return f'<script type="module">\n{_inline_safe(asset("js") + _FOLLOW_T, what="script")}</script>'


def labels_block(labels: Sequence[str], n: int) -> str:
    """The names of the `n` classes, once for the whole page, as a JSON block the explorers find by its id."""
    names = [label_of(labels, i) for i in range(n)]
    return f'<script type="application/json" id="{LABELS_ID}">{json_script_text(names)}</script>'


def explorer_box(data: dict[str, object]) -> str:
    """One explorer, hidden until the script mounts it: the skeleton and its data (`explorer_data(...)`, whose
    labels are replaced by the id of `labels_block`)."""
    shared = data | {"labels": LABELS_ID}
    return (
        f'<div class="lx-report" hidden>{asset("html")}'
        f'<script type="application/json" class="lx-data">{json_script_text(shared)}</script></div>'
    )


def static_part(markup: str) -> str:
    """Markup shown only when the explorer is not running (no JavaScript): the table and chart at the report's T."""
    return f'<div class="lx-static">{markup}</div>'
