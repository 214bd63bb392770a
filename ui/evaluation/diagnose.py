"""The Evaluation page's debugging tools: likely label errors, per image and per class, the embedding
map, look-alikes, two models on one set, weak slices.

One tool at a time, picked with a segmented control: only the picked tool computes anything (an
expander or a tab would compute them all on every rerun). Small results are cached per result key (shared by
sessions); what holds the features (`core.diagnose.embedding.FeatureIndex`) is kept with the stored result in the
session's state, so it goes when the session ends. Session state (prefix "diag_"): the picked tool, the class
filter, the t-SNE map of the current result, the second model's result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st
import torch

from core.charts.diagnose import COLOUR_BY, confusion_view_figure, embedding_figure, selected_rows
from core.datasets.sets import LabelledSet
from core.diagnose import classes, compare, embedding, slices
from core.diagnose.availability import Unavailable
from core.errors import LogitscopeError
from core.evaluate.files import read_results
from core.evaluate.result import EvalResult, Progress
from core.evaluate.run import evaluate
from core.i18n import escape_markdown, t
from core.labels import label_of
from core.models.registry import list_models
from ui.cache import get_model
from ui.evaluation.view import GALLERY_SIZE, View, card_grid, records_gallery
from ui.sidebar import chosen_backend
from ui.widgets import translated_choice

TOOLS = ("issues", "images", "classes", "map", "lookalikes", "compare", "slices")
MAP_GALLERY_SIZE = 24
NEIGHBOURS = 8
MAP_OVERLAYS_UP_TO = 5_000  # images; above, the map's overlays start switched off
PICKER_OPTIONS = 200  # names offered by the look-alikes picker at once (the search box narrows them)
DUPLICATES_AT_ONCE_UP_TO = 5_000  # images; above, near-duplicates are searched on request (seconds to a minute)
# the tools that cannot always run, by their entry in core.diagnose.availability (per image, per class and two
# models work on any result, one class and one image included)
NEEDS = {"issues": "label_issues", "map": "pca_map", "lookalikes": "lookalikes", "slices": "slices"}


def init_state() -> None:
    """The tools' session-state keys, set once per session."""
    st.session_state.setdefault("diag_tool", None)
    st.session_state.setdefault("diag_class", None)  # class index the galleries are filtered to
    st.session_state.setdefault("diag_tsne", None)  # {"key", "coords"} of the current result
    st.session_state.setdefault("diag_second", None)  # {"key", "result"} of the second model


# ---------------------------------------------------------------- caches (keyed by the result's content key)
@st.cache_data(max_entries=4, show_spinner=False)
def _report(key: tuple[str, ...], names_key: str, _result: EvalResult, _names: Sequence[str]) -> pd.DataFrame:
    predictions = _result.logits.argmax(dim=1).numpy()
    return classes.per_class_report(_result.targets.numpy(), predictions, _names, num_classes=_result.num_classes)


def _index(view: View) -> embedding.FeatureIndex:
    """The features' index, built once per stored result and kept with it (session state), not in a shared cache."""
    found = view.kept.get("feature_index")
    if not isinstance(found, embedding.FeatureIndex):
        assert view.result.features is not None
        found = embedding.FeatureIndex(view.result.features)
        view.kept["feature_index"] = found
    return found


@st.cache_data(max_entries=4, show_spinner=False)
def _pca(key: tuple[str, ...], _result: EvalResult) -> np.ndarray:
    assert _result.features is not None
    return embedding.pca_map(_result.features)


@st.cache_data(max_entries=8, show_spinner=False)
def _duplicates(key: tuple[str, ...], threshold: float, _index: embedding.FeatureIndex) -> pd.DataFrame:
    return _index.duplicates(threshold=threshold)


@st.cache_data(max_entries=4, show_spinner=False)
def _properties(key: tuple[str, ...], _result: EvalResult, _view: View) -> pd.DataFrame:
    assert _view.reader is not None
    return slices.properties_frame(_result.files, _view.reader.read)


# ---------------------------------------------------------------- the tool picker
def render(view: View) -> None:
    """The debugging tools under the evaluation's results; nothing is computed until a tool is picked."""
    init_state()
    lang = view.lang
    st.subheader(t("diag.title", lang))
    tool = translated_choice(
        st.segmented_control, "diag.tool", TOOLS, lang=lang, key="diag_tool", label_visibility="collapsed"
    )
    _class_filter(view)
    if tool is None:
        st.caption(t("diag.pick", lang))
        return
    if _says_why_not(view, tool, view.tools.get(NEEDS.get(tool, ""))):
        return
    {
        "issues": issues_tool,
        "images": images_tool,
        "classes": classes_tool,
        "map": map_tool,
        "lookalikes": lookalikes_tool,
        "compare": compare_tool,
        "slices": slices_tool,
    }[tool](view)


def _says_why_not(view: View, tool: str, why: Unavailable | None) -> bool:
    """Instead of a tool that would fail on this result (one class, too few images, no features), say why, once."""
    if why is None:
        return False
    name = t(f"diag.tool.{tool}", view.lang) if tool in TOOLS else tool
    st.info(t("diag.unavailable", view.lang, tool=name, reason=_reason(why, view.lang)), icon=":material/block:")
    return True


def _reason(why: Unavailable, lang: str) -> str:
    """The reason as Markdown: a class name in it (the user's label file) shows literally."""
    params = {key: escape_markdown(v) if isinstance(v, str) else v for key, v in why.params.items()}
    return Unavailable(why.key, params).message(lang)


def _class_filter(view: View) -> None:
    """The class the galleries are narrowed to (set here or by clicking the per-class table)."""
    options = [None, *range(view.result.num_classes)]
    if st.session_state["diag_class"] not in options:
        st.session_state["diag_class"] = None
    st.selectbox(
        t("diag.class_filter", view.lang),
        options,
        key="diag_class",
        format_func=lambda c: t("diag.class_all", view.lang) if c is None else f"{c}: {label_of(view.names, c)}",
    )


def _narrow(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Rows where any of `columns` is the filtered class (all rows without a filter)."""
    chosen = st.session_state["diag_class"]
    if chosen is None:
        return frame
    return frame[np.logical_or.reduce([frame[c].to_numpy() == chosen for c in columns])]


# ---------------------------------------------------------------- likely label errors
def issues_tool(view: View) -> None:
    lang = view.lang
    st.info(t("diag.issues.held_out", lang))
    frame = _narrow(view.label_issues(), "given", "suggested")
    if frame.empty:
        st.caption(t("diag.issues.none", lang))
        return
    sorts = ("score", "confidence", "given", "suggested")
    order = translated_choice(st.selectbox, "diag.sort", sorts, lang=lang, key="diag_issue_order")
    ascending = {"score": True, "confidence": False, "given": True, "suggested": True}[order]
    frame = frame.sort_values([order, "score"], ascending=[ascending, True], kind="stable")
    st.caption(t("diag.issues.count", lang, n=len(frame)))

    def body(row: pd.Series) -> None:
        st.text(t("diag.issue_card", lang, given=row["given_label"], said=row["suggested_label"], p=row["confidence"]))
        st.caption(t("diag.issue_score", lang, score=row["score"]))

    card_grid(view, frame.head(GALLERY_SIZE), "issues", body, key_prefix="diag")
    with st.popover(t("diag.issues.table", lang)):
        st.dataframe(frame.drop(columns=["index"]), hide_index=True, width="stretch")


# ---------------------------------------------------------------- per image
def images_tool(view: View) -> None:
    lang = view.lang
    st.caption(t("diag.images.caption", lang))
    records = _narrow(view.at(view.temperature).records, "target", "prediction")
    shown = records.sort_values("mistakenness", ascending=False)
    cc = st.column_config
    st.dataframe(
        shown[["file", "target_label", "prediction_label", "confidence", "margin", "hardness", "mistakenness"]],
        hide_index=True,
        width="stretch",
        column_config={
            "confidence": cc.NumberColumn(format="%.3f"),
            "margin": cc.NumberColumn(format="%.3f"),
            "hardness": cc.NumberColumn(format="%.3f"),
            "mistakenness": cc.NumberColumn(format="%.3f"),
        },
    )


# ---------------------------------------------------------------- per class
def _pick_class() -> None:
    event = st.session_state.get("diag_class_table")
    rows = event.selection.rows if event is not None else []
    table = st.session_state.get("diag_class_rows")
    if rows and table is not None:
        st.session_state["diag_class"] = int(table[rows[0]])


def classes_tool(view: View) -> None:
    lang = view.lang
    report = classes.weakest_first(_report(view.key, view.names_key, view.result, view.names))
    st.caption(t("diag.classes.caption", lang))
    st.session_state["diag_class_rows"] = report["index"].tolist()
    cc = st.column_config
    st.dataframe(
        report,
        hide_index=True,
        width="stretch",
        key="diag_class_table",
        on_select=_pick_class,
        selection_mode="single-row",
        column_config={
            "index": cc.NumberColumn(t("eval.col.index", lang)),
            "label": cc.TextColumn(t("eval.col.label", lang)),
            "precision": cc.NumberColumn(format="%.3f"),
            "recall": cc.NumberColumn(format="%.3f"),
            "f1": cc.NumberColumn("F1", format="%.3f"),
            "support": cc.NumberColumn(t("diag.support", lang)),
        },
    )
    left, right = st.columns(2)
    top = left.slider(t("diag.confusion.top", lang), 2, 40, 20, key="diag_confusion_top")
    log_colour = right.toggle(t("diag.confusion.log", lang), key="diag_confusion_log")
    predictions = view.scorer.predictions
    matrix = classes.confusion_counts(view.result.targets.numpy(), predictions, num_classes=view.result.num_classes)
    chosen = classes.most_confused(matrix, top=top)
    st.plotly_chart(confusion_view_figure(chosen, view.names, log_colour=log_colour, lang=lang), width="stretch")


# ---------------------------------------------------------------- the embedding map
def _tsne(view: View) -> tuple[np.ndarray, np.ndarray] | None:
    """The t-SNE map of the current result (all images up to `embedding.TSNE_LIMIT`, else a seeded sample of that
    many) as (coords, rows), computed on request and kept in session state; None until then."""
    lang, n = view.lang, view.result.n
    stored = st.session_state["diag_tsne"]
    if stored is not None and stored["key"] == view.key:
        return stored["coords"], stored["rows"]
    rows = embedding.tsne_rows(n)
    if len(rows) < n:
        st.caption(t("diag.map.tsne_sample", lang, n=n, sample=len(rows)))
    if not st.button(t("diag.map.tsne_run", lang, n=len(rows)), key="diag_tsne_run"):
        quiet, busy = embedding.TSNE_SECONDS
        st.caption(t("diag.map.tsne_hint", lang, quiet=quiet, busy=busy, limit=embedding.TSNE_LIMIT))
        return None
    bar = st.progress(0.0, text=t("diag.map.tsne_progress", lang, done=0, total=embedding.TSNE_STAGES))

    def stage(done: int, total: int) -> None:
        bar.progress(done / total, text=t("diag.map.tsne_progress", lang, done=done, total=total))

    assert view.result.features is not None
    coords = embedding.tsne_map(view.result.features[torch.from_numpy(rows)], on_progress=stage)
    st.session_state["diag_tsne"] = {"key": view.key, "coords": coords, "rows": rows}
    return coords, rows


def map_tool(view: View) -> None:
    lang, n = view.lang, view.result.n
    method_column, colour_column = st.columns([1, 2])
    method = translated_choice(
        method_column.radio,
        "diag.map.method",
        ("pca", "tsne"),
        lang=lang,
        key="diag_map_method",
        names="diag.map",
        horizontal=True,
    )
    colour = translated_choice(
        colour_column.segmented_control,
        "diag.map.colour",
        COLOUR_BY,
        lang=lang,
        key="diag_map_colour",
        default="true",
        required=True,
    )
    small = n <= MAP_OVERLAYS_UP_TO  # above this, the overlays start off: they would hide the points
    left, right = st.columns(2)
    show_mistakes = left.toggle(t("diag.map.show_mistakes", lang), value=small, key="diag_map_mistakes")
    no_issues = view.tools["label_issues"]  # one class: cleanlab has nothing to compare, the overlay is left out
    if no_issues is None:
        show_issues = right.toggle(t("diag.map.show_issues", lang), value=small, key="diag_map_issues")
    else:
        show_issues = False
        right.caption(t("diag.map.no_issues", lang, reason=_reason(no_issues, lang)))
    coords, rows = _pca(view.key, view.result), None
    if method == "tsne" and not _says_why_not(view, t("diag.map.tsne", lang), view.tools["tsne_map"]):
        found = _tsne(view)
        if found is not None:
            coords, rows = found
    issue_rows = view.label_issues()["index"].to_numpy() if show_issues else None
    fig = embedding_figure(
        coords,
        view.result.targets.numpy(),
        view.names,
        predictions=view.scorer.predictions,
        confidence=view.at(view.temperature).per_image.confidence,
        colour_by=colour or "true",
        rows=rows,
        show_mistakes=show_mistakes,
        issues=issue_rows,
        lang=lang,
    )
    event = st.plotly_chart(
        fig, width="stretch", key="diag_map", on_select="rerun", selection_mode=("points", "box", "lasso")
    )
    selected = selected_rows(event)
    st.caption(t("diag.map.caption", lang))
    if not selected:
        return
    records = view.at(view.temperature).records.iloc[selected]
    records = _narrow(records, "target", "prediction")
    st.markdown(f"**{t('diag.map.selected', lang, n=len(records))}**")
    records_gallery(view, records.head(MAP_GALLERY_SIZE), "map")


# ---------------------------------------------------------------- look-alikes and near-duplicates
def _image_picker(view: View) -> int:
    """One image of the set, found by typing part of its name (a list of 50,000 names is no picker)."""
    lang, files = view.lang, view.result.files
    opened = st.session_state.get("eval_selected")
    query = st.text_input(t("diag.look.search", lang), key="diag_look_query", placeholder=t("diag.look.hint", lang))
    needle = query.strip().lower()
    matches = [i for i, name in enumerate(files) if needle in name.lower()] if needle else list(range(len(files)))
    if opened in files and files.index(opened) not in matches[:PICKER_OPTIONS]:
        matches.insert(0, files.index(opened))
    if not matches:
        st.caption(t("diag.look.no_match", lang, query=query))
        return files.index(opened) if opened in files else 0
    shown = matches[:PICKER_OPTIONS]
    if len(matches) > len(shown):
        st.caption(t("diag.look.more", lang, n=len(matches), shown=len(shown)))
    default = shown.index(files.index(opened)) if opened in files and files.index(opened) in shown else 0
    chosen = st.selectbox(t("diag.look.image", lang), shown, index=default, format_func=files.__getitem__)
    return int(chosen)


def lookalikes_tool(view: View) -> None:
    lang, result = view.lang, view.result
    index = _index(view)
    files = result.files
    chosen = _image_picker(view)
    indices, sims = index.neighbours([chosen], k=NEIGHBOURS)
    predictions = view.scorer.predictions
    st.caption(t("diag.look.caption", lang))
    neighbours = pd.DataFrame(
        {
            "file": [files[int(i)] for i in indices[0]],
            "true": [label_of(view.names, int(result.targets[i])) for i in indices[0]],
            "said": [label_of(view.names, int(predictions[i])) for i in indices[0]],
            "similarity": sims[0],
        }
    )

    def body(row: pd.Series) -> None:
        st.text(t("eval.card", lang, true=row["true"], predicted=row["said"]))
        st.caption(t("diag.look.similarity", lang, s=float(row["similarity"])))

    card_grid(view, neighbours, "look", body, key_prefix="diag", columns=NEIGHBOURS)
    st.markdown(f"**{t('diag.dup.title', lang)}**")
    threshold = st.slider(t("diag.dup.threshold", lang), 0.90, 1.0, 0.98, 0.005, key="diag_dup_threshold")
    if result.n > DUPLICATES_AT_ONCE_UP_TO and not st.toggle(
        t("diag.dup.find", lang, n=result.n), key="diag_dup_find", help=t("diag.dup.find_help", lang)
    ):
        return
    pairs = _duplicates(view.key, float(threshold), index)
    if pairs.empty:
        st.caption(t("diag.dup.none", lang))
        return
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    targets = result.targets.numpy()
    table = pd.DataFrame(
        {
            "file_a": [files[i] for i in a],
            "label_a": [label_of(view.names, int(targets[i])) for i in a],
            "file_b": [files[i] for i in b],
            "label_b": [label_of(view.names, int(targets[i])) for i in b],
            "similarity": pairs["similarity"].to_numpy(),
            "labels_differ": targets[a] != targets[b],
        }
    )
    st.caption(t("diag.dup.caption", lang, n=len(table)))
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={"similarity": st.column_config.NumberColumn(format="%.4f")},
    )


# ---------------------------------------------------------------- two models
def _second_by_model(view: View) -> EvalResult | None:
    """A second registry model run on exactly the evaluated images (needs them: not for a results file)."""
    lang, result = view.lang, view.result
    stored = st.session_state["diag_second"]
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    name = left.selectbox(t("diag.compare.model", lang), list_models(), key="diag_second_model")
    if right.button(t("diag.compare.run", lang), key="diag_second_run", width="stretch"):
        model = get_model(name, chosen_backend())  # the sidebar's backend choice, as the first model's
        if model.spec.num_classes != result.num_classes:
            raise LogitscopeError(t("diag.compare.classes", lang, a=result.num_classes, b=model.spec.num_classes))
        assert view.reader is not None
        same = LabelledSet(
            source=result.source,
            files=result.files,
            targets=tuple(result.targets.tolist()),
            skipped=(),
            reader=view.reader,
            digest=view.key[1],
        )
        bar = st.progress(0.0)

        def step(p: Progress) -> None:
            bar.progress(p.done / p.total)

        other = evaluate(model, same, on_progress=step)
        stored = {"key": (*view.key, name), "result": other}
        st.session_state["diag_second"] = stored
    if stored is not None and stored["key"][: len(view.key)] == view.key:
        kept: EvalResult = stored["result"]
        return kept
    return None


def compare_tool(view: View) -> None:
    lang, result = view.lang, view.result
    st.caption(t("diag.compare.caption", lang))
    ways = ("file", "model") if view.reader is not None else ("file",)
    how = translated_choice(st.radio, "diag.compare.how", ways, lang=lang, key="diag_second_how", horizontal=True)
    try:
        if how == "model":
            other = _second_by_model(view)
        else:
            upload = st.file_uploader(t("diag.compare.upload", lang), type=["csv", "parquet"], key="diag_second_file")
            other = read_results(upload.getvalue(), upload.name) if upload is not None else None
        if other is None:
            return
        if other.num_classes != result.num_classes:
            raise LogitscopeError(t("diag.compare.classes", lang, a=result.num_classes, b=other.num_classes))
        both = compare.compare_runs(result, other)
    except LogitscopeError as exc:
        st.error(escape_markdown(str(exc)))
        return
    agreement = both.agreement
    names = (result.model or "A", other.model or "B")
    cols = st.columns(4)
    cols[0].metric(t("diag.compare.n", lang), f"{agreement.n:,}")
    cols[1].metric(t("diag.compare.agree", lang), f"{agreement.agree:.1%}")
    cols[2].metric(t("diag.compare.acc", lang, model=names[0]), f"{agreement.accuracy_a:.2%}")
    cols[3].metric(t("diag.compare.acc", lang, model=names[1]), f"{agreement.accuracy_b:.2%}")
    st.dataframe(agreement.table(), width="content")
    diff = _narrow(both.disagreements, "target", "prediction_a", "prediction_b")
    st.markdown(f"**{t('diag.compare.disagree', lang, n=len(diff))}**")

    def body(row: pd.Series) -> None:
        true, a, b = (label_of(view.names, int(row[c])) for c in ("target", "prediction_a", "prediction_b"))
        st.text(t("diag.compare.card", lang, true=true, a=a, b=b))

    card_grid(view, diff.head(GALLERY_SIZE), "compare", body, key_prefix="diag")


# ---------------------------------------------------------------- weak slices
def slices_tool(view: View) -> None:
    lang = view.lang
    if view.reader is None:
        st.info(t("diag.slices.no_images", lang))
        return
    st.caption(t("diag.slices.caption", lang))
    properties = _properties(view.key, view.result, view)
    correct = view.at(view.temperature).records["correct"].to_numpy()
    table = slices.weak_slices(properties, correct)
    gray = table["property"] == "grayscale"  # its two slices are named words, not ranges
    table.loc[gray, "slice"] = [t(f"diag.slices.value.{v}", lang) for v in table.loc[gray, "slice"]]
    table["property"] = [t(f"diag.slices.{p}", lang) for p in table["property"]]
    cc = st.column_config
    st.dataframe(
        table.drop(columns=["lower", "upper"]).assign(accuracy=table["accuracy"] * 100, gap=table["gap"] * 100),
        hide_index=True,
        width="stretch",
        column_config={
            "accuracy": cc.ProgressColumn(format="%.1f%%", min_value=0, max_value=100),
            "gap": cc.NumberColumn(format="%+.1f pt"),
        },
    )
