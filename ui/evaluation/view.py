"""What the Evaluation page's renderers share: the `View` of one stored result at the slider's T, its caches, the
gallery of image cards and the single-image view they open, and the handoff to the Inspector.

Everything after the logits comes from the stored result's `core.evaluate.rescore.Rescorer`, which lives in the
session's state with the result (so a closed session's 50,000-image result goes with it): what does not depend on T
is computed once, each T is one pass over the logits, and the last few T are kept. The caches shared by sessions hold
only small derived data (label issues, thumbnails), keyed by the result's key. Session state:
"eval_selected"/"eval_selected_slot" name the image opened in the single-image view and the gallery it opens under.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import streamlit as st

from core.checks import run_checks
from core.datasets.sets import Reader
from core.diagnose.availability import Unavailable, availability
from core.diagnose.label_issues import label_issues
from core.errors import LogitscopeError
from core.evaluate.metrics import TemperatureFit
from core.evaluate.rescore import AtTemperature, Rescorer
from core.evaluate.result import EvalResult
from core.evaluate.scores import probabilities
from core.i18n import escape_markdown, t
from core.images import decode_image, image_bytes, thumbnail
from core.labels import label_of
from core.models.spec import LoadedModel
from core.prediction.tables import top_k_table
from ui.navigation import INSPECTOR, INSPECTOR_HANDOFF

GALLERY_SIZE = 12
GALLERY_COLUMNS = 6


# ---------------------------------------------------------------- caches (keyed by the result's content key)
@st.cache_data(show_spinner=False, max_entries=512)
def thumbnail_png(digest: str, name: str, _reader: Reader) -> bytes | None:
    """A gallery thumbnail of one image of the set, as PNG bytes (None when it cannot be decoded)."""
    try:
        return image_bytes(thumbnail(decode_image(_reader.read(name), name).image))
    except LogitscopeError:
        return None


@st.cache_data(max_entries=4, show_spinner=False)
def _issues(key: tuple[str, ...], _result: EvalResult) -> pd.DataFrame:
    return label_issues(probabilities(_result.logits), _result.targets.numpy())


@dataclass(frozen=True)
class View:
    """What the results renderers share.

    Attributes:
        key: the stored result's key.
        result: the evaluation.
        fit: the fitted temperature.
        names: one label per class of the result.
        scorer: the result made ready to re-score (kept with it in session state).
        reader: reads an image's bytes (None for a results file: no pictures).
        temperature: the slider's T.
        bins: calibration bins.
        lang: UI language.
        kept: the session's stored result (a dict), where the tools keep what they build for it.
        model: the page's model (None when it could not be loaded): the doubt tools run outside images through it.
    """

    key: tuple[str, ...]
    result: EvalResult
    fit: TemperatureFit
    names: tuple[str, ...]
    scorer: Rescorer
    reader: Reader | None
    temperature: float
    bins: int
    lang: str
    kept: dict[str, object]
    model: LoadedModel | None = None

    @cached_property
    def names_key(self) -> str:
        return hashlib.sha256("\0".join(self.names).encode()).hexdigest()

    @cached_property
    def tools(self) -> dict[str, Unavailable | None]:
        """Which debugging tools this result can feed, and why not (one class, one image, no features): once per
        render, read by the tools, the map's overlay and the report."""
        return availability(self.result, self.names)

    def at(self, temperature: float) -> AtTemperature:
        return self.scorer.at(temperature, bins=self.bins, names=self.names)

    def label_issues(self) -> pd.DataFrame:
        """cleanlab's likely label errors of the result (cached per result) with file names and labels: file, index,
        given, given_label, suggested, suggested_label, confidence, score."""
        frame = _issues(self.key, self.result).copy()
        frame.insert(0, "file", [self.result.files[i] for i in frame["index"]])
        frame.insert(3, "given_label", [label_of(self.names, int(c)) for c in frame["given"]])
        frame.insert(5, "suggested_label", [label_of(self.names, int(c)) for c in frame["suggested"]])
        return frame


# ---------------------------------------------------------------- image cards and the single-image view
def notes(lines: Iterable[str]) -> None:
    """Sentences core wrote about a set or an image (a zip's name encoding, "enlarged 8×"), one caption each."""
    for line in lines:
        st.caption(f":material/info: {escape_markdown(line)}")


def _open(name: str, slot: str) -> None:
    st.session_state["eval_selected"] = name
    st.session_state["eval_selected_slot"] = slot  # the view opens under the gallery that was clicked


def _close() -> None:
    st.session_state["eval_selected"] = None


def picture(view: View, name: str) -> None:
    """The image's thumbnail, when the set's images can be read (not for a results file)."""
    image = thumbnail_png(view.key[1], name, view.reader) if view.reader is not None else None
    if image is not None:
        st.image(image, width="stretch")


def card_grid(
    view: View,
    rows: pd.DataFrame,
    slot: str,
    body: Callable[[pd.Series], None],
    *,
    key_prefix: str = "eval",
    columns: int = GALLERY_COLUMNS,
) -> None:
    """One card per row (a "file" column names the image) in rows of `columns`: the picture, `body(row)` (the
    card's text), an Open button; the image opened from this grid shows right under it."""
    if rows.empty:
        st.caption(t("eval.gallery_empty", view.lang))
        return
    for start in range(0, len(rows), columns):
        chunk = rows.iloc[start : start + columns].iterrows()
        for column, (_, row) in zip(st.columns(columns), chunk, strict=False):
            with column, st.container(border=True):
                name = str(row["file"])
                picture(view, name)
                body(row)
                notes(view.result.file_notes.get(name, ()))  # what the model really saw: enlarged, cropped, ...
                st.button(
                    t("eval.open", view.lang),
                    key=f"{key_prefix}_open_{slot}_{name}",
                    on_click=_open,
                    args=(name, slot),
                    width="stretch",
                )
    selected = st.session_state.get("eval_selected")
    if selected in view.result.files and st.session_state.get("eval_selected_slot") == slot:
        single_image(view, selected)


def precise_percent(p: float) -> str:
    """A probability as a percentage with the digits that tell it apart from 100%: 99.97%, 99.9999%, 95.7%."""
    gap = 1.0 - p
    digits = 1 if gap >= 1e-3 else min(10, int(np.ceil(-np.log10(max(gap, 1e-16)))) - 1)
    return f"{p * 100:.{digits}f}%"


def records_gallery(view: View, rows: pd.DataFrame, slot: str) -> None:
    """Cards of per-image records (`core.evaluate.records.records_table` rows): true and predicted label (plain
    text), confidence, margin."""
    lang = view.lang

    def body(row: pd.Series) -> None:
        st.text(t("eval.card", lang, true=row["target_label"], predicted=row["prediction_label"]))
        confidence = float(row["confidence"])
        st.progress(confidence, text=t("eval.card_confidence", lang, confidence=precise_percent(confidence)))
        st.caption(t("eval.card_margin", lang, margin=row["margin"], logits=row["logit_margin"]))

    card_grid(view, rows, slot, body)


def single_image(view: View, name: str) -> None:
    """The selected image in place: picture, top-k at the current T, the checklist, the Inspector button."""
    lang, temperature = view.lang, view.temperature
    position = view.result.files.index(name)
    logits = view.result.logits[position]
    row = view.at(temperature).records.iloc[position]
    with st.container(border=True):
        head, close = st.columns([5, 1])
        head.markdown(f"#### {t('eval.view.title', lang)}")
        head.text(name)
        close.button(t("eval.view.close", lang), on_click=_close, width="stretch")
        picture, table = st.columns([1, 3])
        checks = st.container()
        data = None
        if view.reader is not None:
            try:
                data = view.reader.read(name)
                picture.image(image_bytes(thumbnail(decode_image(data, name).image, size=320)), width="stretch")
            except LogitscopeError as exc:
                picture.error(escape_markdown(str(exc)))
        picture.text(t("eval.card", lang, true=row["target_label"], predicted=row["prediction_label"]))
        confidence = precise_percent(float(row["confidence"]))
        picture.caption(t("eval.card_numbers", lang, confidence=confidence, margin=row["margin"]))
        with picture:
            notes(view.result.file_notes.get(name, ()))
        with table:
            st.caption(t("eval.view.top_k", lang, t=temperature))
            top = top_k_table(logits, view.names, k=5, temperature=temperature)
            st.dataframe(
                top[["rank", "index", "label", "logit"]].assign(probability=top["probability"] * 100),
                hide_index=True,
                width="stretch",
                column_config={
                    "logit": st.column_config.NumberColumn(format="%.4f"),
                    "probability": st.column_config.NumberColumn(format="%.2f%%"),
                },
            )
        with checks:
            st.caption(t("eval.view.checks", lang))
            found = run_checks(
                logits, labels=view.names, num_classes=view.result.num_classes, temperature=temperature, lang=lang
            )
            status, finding = t("eval.view.status", lang), t("eval.view.finding", lang)
            st.dataframe(
                pd.DataFrame(
                    {status: [t(f"eval.status.{c.status}", lang) for c in found], finding: [c.message for c in found]}
                ),
                hide_index=True,
                width="stretch",
                column_config={status: st.column_config.TextColumn(width="small")},
            )
        if data is not None and st.button(t("eval.view.inspector", lang), key="eval_to_inspector"):
            open_in_inspector(name, data)


def open_in_inspector(name: str, data: bytes) -> None:
    """Hand one image to the Image Inspector (its image inputs take it) and go there."""
    st.session_state[INSPECTOR_HANDOFF] = {"name": name, "bytes": data}
    INSPECTOR.go()
