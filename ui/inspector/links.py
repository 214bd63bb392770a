"""The Image Inspector's link and report: its view kept in the URL, restored from it, and handed over as a file.

`restore_link()` runs before the sidebar is drawn: a link opened on purpose (`?samples=chelsea&T=2&k=3`)
seeds the kept values the widgets are drawn from (`model`, `inspector_samples`, `inspector_k`, ...); a
broken parameter becomes a message and keeps its default (`core.links.inspector` decides). `sync_link(...)` runs
at the end of the results fragment and writes the current view back to the address bar, so the address
bar is always the share link. `share_row(...)` shows that link, says which images cannot travel in it
(uploads, camera photos), and offers the one-file HTML report of everything shown instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import streamlit as st

from core.analysis import ImageResult
from core.i18n import escape_markdown, t
from core.links.inspector import (
    InspectorState,
    LinkProblem,
    decode_query,
    encode_query,
    has_link_state,
    query_string,
    resolve_class,
)
from core.models.registry import get_spec, list_models
from core.models.spec import LoadedModel
from core.report.document import report_file_name
from core.report.inspector import inspector_report
from core.samples import sample_images
from ui.inspector.controls import DEFAULT_SAMPLE, TEMPERATURES, InspectorControls, Names, sample_input
from ui.inspector.doubt import report_doubt
from ui.sidebar import CHECKPOINT

WRITTEN_KEY = "inspector_link_written"  # the query this session last wrote: our own URL is never "a link"
CLASS_KEY = "inspector_link_class"  # a link's class X, until the class picker has taken it
CLASS_TAB = "inspector.tab.class"


def _current_query() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def restore_link() -> list[LinkProblem]:
    """Apply a link opened on this page to the kept widget values; returns what could not be used.

    Call before `shared_sidebar()` (it seeds the model choice) and before the Inspector's widgets.
    """
    ss = st.session_state
    query = _current_query()
    if not has_link_state(query) or query == ss.get(WRITTEN_KEY):
        return []
    ss[WRITTEN_KEY] = query  # taken once: reruns and our own writes do not apply it again
    samples = [s.name for s in sample_images()]
    default = InspectorState(samples=(DEFAULT_SAMPLE,) if DEFAULT_SAMPLE in samples else ())
    link = decode_query(query, samples=samples, models=list_models(), temperatures=TEMPERATURES, default=default)
    state, problems = link.state, list(link.problems)
    if "model" in link.given and state.model != default.model:
        status = get_spec(state.model).availability()
        if not status.available:  # a known model whose weights are not here: the default, and why
            problems.append(LinkProblem("links.err.model_unavailable", {"name": state.model, "reason": status.reason}))
            state = replace(state, model=default.model)
    if "samples" in link.given:
        ss["inspector_samples"] = list(state.samples)
        ss["inspector_samples_touched"] = True  # what the link shows is a choice, like ticking the boxes
    if "model" in link.given:
        ss["model"] = state.model
    ss["inspector_temperature"] = state.temperature
    ss["inspector_k"] = state.k
    ss["inspector_scores"] = state.scores
    if state.class_query is not None:
        ss[CLASS_KEY] = state.class_query
        ss["inspector_tab"] = t(CLASS_TAB, ss.get("lang", "en"))  # open the tab the class belongs to
    return problems


def show_link_problems(problems: Sequence[LinkProblem], lang: str) -> None:
    """One warning per broken parameter of the link (the rest of it was applied)."""
    for problem in problems:
        message = t("links.problem", lang, error=problem.message(lang))
        st.warning(escape_markdown(message), icon=":material/link_off:")


def link_class(num_classes: int, names: Names, lang: str) -> int | None:
    """The class a link named for "what about class X?", once (None when there is none or it fits no class)."""
    query = st.session_state.pop(CLASS_KEY, None)
    if query is None:
        return None
    index, problem = resolve_class(str(query), num_classes, *names.search)
    if problem is not None:
        show_link_problems([problem], lang)
    st.session_state["inspector_class"] = index
    return index


def remember_class(index: int) -> None:
    """The class X picked now, for the link (written only while its tab is open)."""
    st.session_state["inspector_class"] = index


def current_state(model: LoadedModel, knobs: InspectorControls, lang: str) -> InspectorState:
    """The view shown now, as a link carries it."""
    ss = st.session_state
    class_open = ss.get("inspector_tab") == t(CLASS_TAB, lang) and ss.get("inspector_class") is not None
    return InspectorState(
        samples=tuple(ss.get("inspector_samples") or ()),
        model=model.spec.name,
        temperature=knobs.temperature,
        k=knobs.k,
        scores=knobs.scores,
        class_query=str(ss["inspector_class"]) if class_open else None,
    )


def _linkable(model: LoadedModel) -> bool:
    """A link names a registry model only: a user's own model (its files stay on this server) has none."""
    return st.session_state.get("model") != CHECKPOINT and not model.spec.user_model


def sync_link(model: LoadedModel, knobs: InspectorControls, lang: str) -> None:
    """Keep the address bar equal to the share link of the current view (cleared for a user's own model)."""
    ss = st.session_state
    if not _linkable(model):
        if st.query_params:
            st.query_params.clear()
        ss[WRITTEN_KEY] = {}
        return
    query = encode_query(current_state(model, knobs, lang))
    wanted = {key: [value] for key, value in query.items()}
    if _current_query() != wanted:
        st.query_params.from_dict(query)
    ss[WRITTEN_KEY] = wanted


def _not_in_link(results: Sequence[ImageResult]) -> int:
    """How many of the images shown are not sample images (uploads, a photo, a handed-over file)."""
    sample_keys = {sample_input(name).key for name in st.session_state.get("inspector_samples") or ()}
    return sum(1 for r in results if r.key not in sample_keys)


def share_row(
    results: Sequence[ImageResult], model: LoadedModel, names: Names, knobs: InspectorControls, lang: str
) -> None:
    """The share link (with what it cannot carry) and "Download report (HTML)" of every image shown."""

    def report() -> str:
        return inspector_report(
            results,
            names.labels,
            model=model.spec.name,
            preprocessing=model.spec.preprocessing.describe(),
            temperature=knobs.temperature,
            k=knobs.k,
            scores=knobs.scores,
            num_classes=model.spec.num_classes,
            other_labels=names.other,
            lang=lang,
            doubt=report_doubt(model.spec.name, model.spec.num_classes, knobs.temperature),
        )

    stem = results[0].name if len(results) == 1 else f"{len(results)}_images"
    row = st.container(horizontal=True, gap="small")
    download = {
        "label": t("report.download", lang),
        "data": report,
        "file_name": report_file_name(f"{stem}_{model.spec.name}"),
        "mime": "text/html",
        "icon": ":material/summarize:",
        "on_click": "ignore",
        "help": t("report.download_help", lang),
    }
    row.download_button(**download, key="inspector_report")  # type: ignore[arg-type]
    if not _linkable(model):
        row.caption(t("links.own_model", lang))
        return
    with row.popover(t("links.share", lang), icon=":material/link:"):
        link = query_string(encode_query(current_state(model, knobs, lang)))
        st.code(f"{st.context.url or ''}?{link}", language=None, wrap_lines=True)
        st.caption(t("links.share_help", lang))
        missing = _not_in_link(results)
        if missing:
            st.warning(t("links.uploads_stay", lang, n=missing), icon=":material/cloud_off:")
            st.download_button(**download, key="inspector_report_share")  # type: ignore[arg-type]
        elif not st.session_state.get("inspector_samples"):
            st.caption(t("links.no_samples", lang))
