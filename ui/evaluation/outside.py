"""The Evaluation page's "Outside images" tool: is what the model was evaluated on told apart from images it never saw?

A second, unlabelled set is the outside: a zip or a folder uploaded, a results file of the same model, or (where the
operator allows it) a folder, zip or results file on the server. Images are run through the page's model, with a
progress bar, once: their logits are kept in session state ("doubt_outside": {"key", "inside", "result", "reader",
"digest"}, one outside set at a time, for the stored result it was run against). At the page's T: each score's
histogram inside vs outside, the ROC curves with AUROC and FPR at 95% TPR, a threshold the user moves with the share
of outside images caught and inside images lost, and the outside images that fool the model most.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core.charts.uncertainty import roc_figure, score_histogram_figure, score_label
from core.datasets.roots import data_roots
from core.datasets.sets import LabelledSet, Reader
from core.datasets.unlabelled import open_unlabelled_files, open_unlabelled_zip
from core.errors import LogitscopeError
from core.evaluate.files import read_results
from core.evaluate.result import EvalResult, Progress, same_model
from core.evaluate.run import evaluate
from core.i18n import escape_markdown, t
from core.models.spec import LoadedModel
from core.uncertainty.ood import SCORE_NAMES, most_fooling, ood_scores, ood_table, separations, threshold_split
from core.uncertainty.outside import open_outside
from core.uncertainty.selective import threshold_stops
from ui.doubt import memo, scores_at
from ui.evaluation.inputs import path_stamp, server_path, upload_limit
from ui.evaluation.view import GALLERY_COLUMNS, GALLERY_SIZE, View, precise_percent, thumbnail_png
from ui.widgets import translated_choice

OUTSIDE_KEY = "doubt_outside"
WHERE = ("zip", "folder", "results")


# ---------------------------------------------------------------- the outside set in
@st.cache_resource(show_spinner=False, max_entries=2)
def _zip(file_id: str, name: str, _data: bytes) -> LabelledSet:
    """An uploaded zip of outside images, listed once per upload."""
    return open_unlabelled_zip(_data, name=name)


@st.cache_resource(show_spinner=False, max_entries=2)
def _folder(file_ids: tuple[str, ...], _files: dict[str, bytes]) -> LabelledSet:
    """A folder's files uploaded one by one, listed once per upload."""
    return open_unlabelled_files(_files, name=t("unc.ood.folder_name", "en", n=len(_files)))


def kept_outside(view: View) -> dict[str, object] | None:
    """The outside set run against this stored result, or None."""
    kept = st.session_state.get(OUTSIDE_KEY)
    return kept if isinstance(kept, dict) and kept["inside"] == view.key else None


def _keep(view: View, key: tuple[str, ...], result: EvalResult, reader: Reader | None, digest: str) -> None:
    st.session_state[OUTSIDE_KEY] = {
        "key": key,
        "inside": view.key,
        "result": result,
        "reader": reader,
        "digest": digest,
    }


def _results_outside(view: View, key: tuple[str, ...], read: Callable[[], EvalResult]) -> None:
    """A results file's logits as the outside set, checked to be of this result's model."""
    kept = kept_outside(view)
    if kept is not None and kept["key"] == key:
        return
    result = view.result
    other = read()
    if not same_model(other.model, other.num_classes, result.model or other.model, result.num_classes):
        raise LogitscopeError(
            t("unc.ood.other_model", view.lang, model=other.model or "?", n=other.num_classes, ours=result.model)
        )
    _keep(view, key, other, None, "")


def _run_outside(view: View, key: tuple[str, ...], listed: LabelledSet, model: LoadedModel | None) -> None:
    """Say what was found; run it through the model when asked (a progress bar), and keep the logits."""
    lang, result = view.lang, view.result
    st.caption(t("unc.ood.listed", lang, n=len(listed), skipped=len(listed.skipped)))
    for note in listed.notes:
        st.caption(escape_markdown(note))
    if model is None or not same_model(result.model, result.num_classes, model.spec.name, model.spec.num_classes):
        st.warning(t("unc.ood.needs_model", lang, model=result.model or "?"))
        return
    kept = kept_outside(view)
    done = kept is not None and kept["key"] == key
    label = t("unc.ood.rerun" if done else "unc.ood.run", lang, n=len(listed), model=model.spec.name)
    if not st.button(label, key="doubt_outside_run", type="secondary" if done else "primary"):
        return
    bar = st.progress(0.0, text=t("eval.progress.start", lang, total=len(listed)))

    def on_progress(p: Progress) -> None:
        bar.progress(
            p.done / p.total, text=t("eval.progress", lang, done=p.done, total=p.total, rate=p.images_per_second)
        )

    found = evaluate(model, listed, on_progress=on_progress)
    if found.n == 0:
        raise LogitscopeError(t("unc.ood.nothing_decoded", lang, errors=len(found.errors)))
    _keep(view, key, found, listed.reader, listed.digest)
    bar.empty()


def outside_input(view: View) -> None:
    """The outside set's widgets; keeps the outside logits once they exist."""
    lang = view.lang
    places = (*WHERE, "server") if data_roots() else WHERE
    where = translated_choice(st.radio, "unc.ood.where", places, lang=lang, key="doubt_outside_where", horizontal=True)
    model = view.model
    try:
        if where == "zip":
            upload = st.file_uploader(t("unc.ood.zip", lang), type=["zip"], key="doubt_outside_zip")
            upload_limit(lang)
            if upload is not None:
                listed = _zip(upload.file_id, upload.name, upload.getvalue())
                _run_outside(view, ("zip", upload.file_id), listed, model)
        elif where == "folder":
            uploads = st.file_uploader(
                t("unc.ood.folder", lang), accept_multiple_files="directory", key="doubt_outside_folder"
            )
            upload_limit(lang)
            if uploads:
                ids = tuple(u.file_id for u in uploads)
                listed = _folder(ids, {u.name: u.getvalue() for u in uploads})
                _run_outside(view, ("folder", *ids), listed, model)
        elif where == "results":
            upload = st.file_uploader(t("unc.ood.results", lang), type=["csv", "parquet"], key="doubt_outside_results")
            upload_limit(lang)
            if upload is not None:
                _results_outside(
                    view, ("results", upload.file_id), lambda: read_results(upload.getvalue(), upload.name)
                )
        else:
            _server_outside(view, model)
    except LogitscopeError as exc:
        st.error(escape_markdown(str(exc)))


def _server_outside(view: View, model: LoadedModel | None) -> None:
    lang, result = view.lang, view.result
    path = server_path(lang, "doubt_outside_path", t("unc.ood.server", lang))
    if path is None:
        return
    key = ("server", str(path), path_stamp(path))
    opened = open_outside(path, model=result.model, num_classes=result.num_classes)
    if isinstance(opened, EvalResult):
        _results_outside(view, key, lambda: opened)
    else:
        _run_outside(view, key, opened, model)


# ---------------------------------------------------------------- what the scores tell apart
def outside_tool(view: View) -> None:
    lang = view.lang
    st.caption(t("unc.ood.caption", lang))
    outside_input(view)
    kept = kept_outside(view)
    if kept is None:
        st.caption(t("unc.ood.none_yet", lang))
        return
    other: EvalResult = kept["result"]  # type: ignore[assignment]
    okey, temperature = kept["key"], view.temperature
    inside = scores_at(view.kept, view.result, temperature)
    outside = memo(view.kept, ("outside", okey, temperature), lambda: ood_scores(other.logits, temperature=temperature))
    found = memo(view.kept, ("separations", okey, temperature), lambda: separations(inside, outside))
    source = escape_markdown(other.source)
    st.success(t("unc.ood.against", lang, n_in=view.result.n, n_out=other.n, source=source, t=temperature))
    table = pd.DataFrame(
        {
            "score": [score_label(name, lang) for name in SCORE_NAMES],
            "auroc": [found[name].auroc for name in SCORE_NAMES],
            "fpr95": [found[name].fpr95 * 100 for name in SCORE_NAMES],
            "threshold95": [found[name].threshold95 for name in SCORE_NAMES],
        }
    )
    cc = st.column_config
    left, right = st.columns([2, 3])
    left.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="doubt_ood_table",
        column_config={
            "score": cc.TextColumn(t("unc.ood.col.score", lang)),
            "auroc": cc.NumberColumn("AUROC", format="%.4f", help=t("unc.ood.auroc_help", lang)),
            "fpr95": cc.NumberColumn(t("unc.ood.col.fpr95", lang), format="%.2f%%", help=t("unc.ood.fpr95_help", lang)),
            "threshold95": cc.NumberColumn(t("unc.ood.col.threshold95", lang), format="%.6g"),
        },
    )
    left.caption(t("unc.ood.softmax_note", lang))
    right.plotly_chart(roc_figure(found, lang=lang), width="stretch", key="doubt_roc")
    _threshold(view, kept, inside, outside, found[_score(view)].threshold95)


def _score(view: View) -> str:
    chosen = st.session_state.get("doubt_ood_score")
    return chosen if chosen in SCORE_NAMES else "energy"


def _threshold(
    view: View, kept: dict[str, object], inside: dict[str, np.ndarray], outside: dict[str, np.ndarray], at95: float
) -> None:
    """The threshold the user moves on one score: shares caught and lost, the histograms, the most fooling images."""
    lang, temperature = view.lang, view.temperature
    st.markdown(f"**{t('unc.ood.threshold_title', lang)}**")
    score = st.segmented_control(
        t("unc.ood.score", lang),
        SCORE_NAMES,
        key="doubt_ood_score",
        default="energy",
        required=True,
        format_func=lambda name: score_label(name, lang),
    )
    score = score or "energy"
    okey = kept["key"]
    stops = memo(
        view.kept,
        ("ood-stops", okey, score, temperature),
        lambda: np.unique(np.append(threshold_stops(np.concatenate([inside[score], outside[score]])), at95)),
    )
    key = f"doubt_ood_threshold_{score}"
    if key in st.session_state and float(st.session_state[key]) not in set(stops.tolist()):
        del st.session_state[key]  # another outside set or T: the slider starts again at 95% TPR
    threshold = float(
        st.select_slider(
            t(f"unc.ood.threshold.{score}", lang),
            options=stops.tolist(),
            value=at95,
            key=key,
            format_func=lambda v: f"{v:.6g}",
            help=t("unc.ood.threshold_help", lang),
        )
    )
    split = threshold_split(score, inside[score], outside[score], threshold)
    cells = st.columns(2)
    caught = round(split.caught * split.n_out)
    lost = round(split.lost * split.n_in)
    cells[0].metric(
        t("unc.ood.caught", lang), f"{split.caught:.1%}", help=t("unc.ood.caught_of", lang, k=caught, n=split.n_out)
    )
    cells[1].metric(t("unc.ood.lost", lang), f"{split.lost:.1%}", help=t("unc.ood.lost_of", lang, k=lost, n=split.n_in))
    st.caption(t("unc.ood.shares", lang, caught=caught, n_out=split.n_out, lost=lost, n_in=split.n_in))
    figure = score_histogram_figure(score, inside[score], outside[score], threshold=threshold, lang=lang)
    st.plotly_chart(figure, width="stretch", key="doubt_ood_histogram")
    _fooling(view, kept, score)


def _fooling(view: View, kept: dict[str, object], score: str) -> None:
    """The outside images that look most like inside ones by `score`: the first a threshold would let through."""
    lang, temperature = view.lang, view.temperature
    other: EvalResult = kept["result"]  # type: ignore[assignment]
    reader: Reader | None = kept["reader"]  # type: ignore[assignment]
    table = memo(
        view.kept,
        ("ood-table", kept["key"], temperature),
        lambda: ood_table(other.logits, other.files, view.names, temperature=temperature),
    )
    worst = most_fooling(table, score=score, n=GALLERY_SIZE)
    st.markdown(f"**{t('unc.ood.fooling', lang, n=len(worst), score=score_label(score, lang))}**")
    for start in range(0, len(worst), GALLERY_COLUMNS):
        chunk = worst.iloc[start : start + GALLERY_COLUMNS]
        for column, (_, row) in zip(st.columns(GALLERY_COLUMNS), chunk.iterrows(), strict=False):
            with column, st.container(border=True):
                name = str(row["file"])
                image = thumbnail_png(str(kept["digest"]), name, reader) if reader is not None else None
                if image is not None:
                    st.image(image, width="stretch")
                st.text(Path(name).name)
                st.text(t("unc.ood.card", lang, label=row["prediction_label"], p=precise_percent(float(row["msp"]))))
                st.caption(t("unc.ood.card_scores", lang, max_logit=row["max_logit"], energy=row["energy"]))
