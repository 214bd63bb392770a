"""UI helpers of the Dataset Evaluation page, data in: the source widgets, the run and the stored result.

`data_input` draws the chosen source's widgets and returns a `DataIn` (the set and its key); `run_controls`
runs the model when asked; `stored_result` gives the stored {"key", "result", "fit", "scorer"} when it belongs to
that key. A zip or a results file comes as an upload (the server's upload limit is said under the uploader) or, where
the operator allows it (`LOGITSCOPE_DATA_ROOTS`, `core.datasets.roots`), as a path on the server: a folder or zip of
images, or a results file. Session state: "eval_result" is written only when a run completes (or a results file is
read). The results themselves are drawn by `ui.evaluation.results`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from core.datasets.classes import resolver_for
from core.datasets.roots import ROOTS_VARIABLE, data_roots, resolve_under_roots
from core.datasets.sets import EmptyDatasetError, LabelledSet
from core.datasets.sources import digits_set, open_path, open_zip
from core.errors import InputError, LogitscopeError
from core.evaluate.files import read_results
from core.evaluate.metrics import DEFAULT_BINS
from core.evaluate.rescore import Rescorer
from core.evaluate.result import EvalResult, Progress
from core.evaluate.run import evaluate
from core.i18n import escape_markdown, t
from core.models.spec import LoadedModel, ModelSpec
from ui.evaluation.view import notes
from ui.sidebar import SidebarControls
from ui.widgets import translated_choice

DIGITS_MODEL = "digits_cnn"
SOURCES = ("digits", "zip", "results")


def init_state() -> None:
    """The page's session-state keys, set once per session."""
    st.session_state.setdefault("eval_result", None)
    st.session_state.setdefault("eval_selected", None)  # file opened in the single-image view
    st.session_state.setdefault("eval_selected_slot", None)  # which gallery it was opened from
    st.session_state.setdefault("eval_autorun", False)  # set by the "switch to digits_cnn" button
    st.session_state.setdefault("eval_temperature", 1.0)
    st.session_state.setdefault("eval_bins", DEFAULT_BINS)
    st.session_state.setdefault("eval_on_ray", False)  # run on Ray Data instead of this process
    st.session_state.setdefault("eval_ray_address", "")  # "" starts a local Ray for the run


@st.cache_resource(show_spinner=False)
def _digits() -> LabelledSet:
    return digits_set("test")


@st.cache_resource(show_spinner=False, max_entries=2)
def _zip_set(
    file_id: str, model_name: str, labels: tuple[str, ...], name: str, _spec: ModelSpec, _data: bytes
) -> LabelledSet:
    """The uploaded zip, listed once per (upload, model, labels): reruns never re-hash the bytes."""
    return open_zip(_data, resolver_for(_spec, labels), name=name)


@st.cache_resource(show_spinner=False, max_entries=2, ttl=600)
def _server_set(path: str, stamp: str, model_name: str, labels: tuple[str, ...], _spec: ModelSpec) -> LabelledSet:
    """A folder or zip on the server, listed once per (path, its modification time, model, labels)."""
    return open_path(path, resolver_for(_spec, labels))


# ---------------------------------------------------------------- data in
def _switch_to_digits() -> None:
    st.session_state["model"] = DIGITS_MODEL  # the shared sidebar's kept choice
    st.session_state["eval_autorun"] = True


@dataclass(frozen=True)
class DataIn:
    """What the page evaluates (or explores).

    Attributes:
        labelled: the images to evaluate; None for a results file or while nothing is chosen.
        key: identifies the data and the model (the stored result belongs to it); None while nothing is chosen.
    """

    labelled: LabelledSet | None = None
    key: tuple[str, ...] | None = None


def source_picker(lang: str) -> str:
    """Built-in digits, a zip upload or a results file."""
    source = translated_choice(
        st.segmented_control, "eval.source", SOURCES, lang=lang, key="eval_source", default="digits", required=True
    )
    return source or "digits"


def data_input(source: str, *, controls: SidebarControls, model: LoadedModel | None, labels: Sequence[str]) -> DataIn:
    """The source's widgets (and messages); a results file is read and stored here."""
    lang = controls.lang
    if source == "digits":
        st.caption(t("eval.digits.about", lang))
        if controls.uses_checkpoint or controls.model_name != DIGITS_MODEL:
            st.info(t("eval.digits.needs_model", lang, model=DIGITS_MODEL))
            st.button(t("eval.digits.switch", lang, model=DIGITS_MODEL), type="primary", on_click=_switch_to_digits)
            return DataIn()
        return _labelled(_digits(), model) if model is not None else DataIn()
    if source == "zip":
        if _where(lang, "eval_zip_where") == "server":
            return _server_folder(lang, model, labels)
        upload = st.file_uploader(
            t("eval.zip.upload", lang), type=["zip"], key="eval_zip", help=t("eval.zip.help", lang)
        )
        upload_limit(lang)
        if upload is None or model is None:
            return DataIn()
        spec, data = model.spec, upload.getvalue()
        return _opened(lambda: _zip_set(upload.file_id, spec.name, tuple(labels), upload.name, spec, data), model)
    return _results_file(lang)


def _opened(open_set: Callable[[], LabelledSet], model: LoadedModel) -> DataIn:
    """The set `open_set()` lists, or nothing with the reason shown (and what was skipped, when nothing was left)."""
    try:
        labelled = open_set()
    except EmptyDatasetError as exc:
        st.error(escape_markdown(str(exc)))
        if exc.skipped:
            st.dataframe(pd.DataFrame([vars(s) for s in exc.skipped]), hide_index=True, width="stretch")
        return DataIn()
    except LogitscopeError as exc:
        st.error(escape_markdown(str(exc)))
        return DataIn()
    return _labelled(labelled, model)


def upload_limit(lang: str) -> None:
    """Under an uploader, on the page (not on hover): the server's upload limit and how to go past it."""
    limit = int(st.get_option("server.maxUploadSize"))
    key = "eval.upload_limit.roots" if data_roots() else "eval.upload_limit"
    st.caption(t(key, lang, mb=limit, variable=ROOTS_VARIABLE))


def _where(lang: str, key: str) -> str:
    """ "upload" or, where the operator lists folders in LOGITSCOPE_DATA_ROOTS and the user picks it, "server"."""
    if not data_roots():
        return "upload"
    where = translated_choice(st.radio, "eval.where", ("upload", "server"), lang=lang, key=key, horizontal=True)
    return where or "upload"


def server_path(lang: str, key: str, label: str) -> Path | None:
    """A path typed by the user, resolved under the allowed folders (an error shown and None when refused)."""
    roots = data_roots()
    typed = st.text_input(label, key=key, placeholder=str(roots[0] / "…"))
    st.caption(t("eval.server.roots", lang, roots=", ".join(f"`{root}`" for root in roots)))
    if not typed.strip():
        return None
    try:
        return resolve_under_roots(typed, roots)
    except LogitscopeError as exc:
        st.error(escape_markdown(str(exc)))
        return None


def path_stamp(path: Path) -> str:
    info = path.stat()
    return f"{info.st_mtime_ns}:{info.st_size}"


def _server_folder(lang: str, model: LoadedModel | None, labels: Sequence[str]) -> DataIn:
    path = server_path(lang, "eval_zip_path", t("eval.server.folder", lang))
    if path is None or model is None:
        return DataIn()
    spec, stamp = model.spec, path_stamp(path)
    return _opened(lambda: _server_set(str(path), stamp, spec.name, tuple(labels), spec), model)


def _labelled(labelled: LabelledSet, model: LoadedModel) -> DataIn:
    targets = hashlib.sha256(repr(labelled.targets).encode()).hexdigest()
    return DataIn(labelled, (model.spec.name, labelled.digest, targets))


def _results_file(lang: str) -> DataIn:
    if _where(lang, "eval_results_where") == "server":
        path = server_path(lang, "eval_results_path", t("eval.server.results", lang))
        if path is None:
            return DataIn()
        key = ("results-path", str(path), path_stamp(path))  # a file changed on disk is read again
        return _read_once(key, lambda: read_results(_results_path(path), path.name))
    upload = st.file_uploader(
        t("eval.results.upload", lang),
        type=["csv", "parquet"],
        key="eval_results_file",
        help=t("eval.results.help", lang),
    )
    upload_limit(lang)
    if upload is None:
        return DataIn()
    key = ("results", upload.file_id)  # a new upload gets a new file id: the bytes are never re-hashed
    return _read_once(key, lambda: read_results(upload.getvalue(), upload.name))


def _results_path(path: Path) -> Path:
    if path.is_dir():
        raise InputError(f"{path.name}: a folder; a results file is a .parquet or .csv file")
    return path


def _read_once(key: tuple[str, ...], read: Callable[[], EvalResult]) -> DataIn:
    """The stored result when it belongs to `key`; else `read()` it and store it (an error is shown, nothing kept)."""
    stored = st.session_state["eval_result"]
    if stored is None or stored["key"] != key:
        try:
            _store(key, read())
        except LogitscopeError as exc:
            st.error(escape_markdown(str(exc)))
            return DataIn()
    return DataIn(None, key)


def _store(key: tuple[str, ...], result: EvalResult) -> None:
    """The result, made ready to re-score (one pass for what does not depend on T) and its T fitted, in session
    state: the big arrays go when the session does."""
    st.session_state["eval_result"] = None  # the previous result is released before the new one is prepared
    scorer = Rescorer(result) if result.n else None
    fit = scorer.calibrate() if scorer is not None else None
    st.session_state["eval_result"] = {"key": key, "result": result, "fit": fit, "scorer": scorer}
    st.session_state["eval_selected"] = None


def run_controls(data: DataIn, model: LoadedModel | None, lang: str) -> None:
    """The set's summary and the evaluate button; runs the model when clicked (or after the digits switch)."""
    labelled, key = data.labelled, data.key
    if labelled is None or model is None or key is None:
        return
    classes = len(set(labelled.targets))
    st.write(t("eval.set_summary", lang, n=len(labelled), classes=classes, skipped=len(labelled.skipped)))
    done = stored_result(key) is not None
    if not done:  # how a zip's names were read, system files left out; once evaluated, the results say them
        notes(labelled.notes)
    address = _ray_controls(lang)
    clicked = st.button(
        t("eval.rerun" if done else "eval.run", lang, n=len(labelled), model=model.spec.name),
        type="secondary" if done else "primary",
    )
    if clicked or (st.session_state["eval_autorun"] and not done):
        st.session_state["eval_autorun"] = False
        try:
            _run(model, labelled, key, lang, ray_address=address)
        except LogitscopeError as exc:
            st.error(escape_markdown(str(exc)))


def _ray_controls(lang: str) -> str | None:
    """The "run on Ray" toggle and its address: None for a local run, "" for a local Ray, else the address."""
    if not st.toggle(t("eval.ray.toggle", lang), key="eval_on_ray", help=t("eval.ray.help", lang)):
        return None
    address = st.text_input(t("eval.ray.address", lang), key="eval_ray_address", placeholder="auto, ray://host:10001")
    return address.strip()


def _run(
    model: LoadedModel, labelled: LabelledSet, key: tuple[str, ...], lang: str, *, ray_address: str | None = None
) -> None:
    """Evaluate with a progress bar (here, or on Ray when `ray_address` is not None); the result reaches
    session state only once complete."""
    bar = st.progress(0.0, text=t("eval.progress.start", lang, total=len(labelled)))

    def on_progress(p: Progress) -> None:
        text = t("eval.progress", lang, done=p.done, total=p.total, rate=p.images_per_second)
        bar.progress(p.done / p.total, text=text)

    if ray_address is None:
        result = evaluate(model, labelled, on_progress=on_progress, features=True)  # features: the debugging tools
    else:
        from core.backends.choose import backend_info
        from core.evaluate.ray import RayOptions, evaluate_on_ray

        # the actors run what runs here (torch or onnxruntime), so a Ray run gives this page's numbers
        options = RayOptions(backend=backend_info(model).name, features=True)
        result = evaluate_on_ray(
            model.spec, labelled, address=ray_address or None, options=options, on_progress=on_progress
        )
    _store(key, result)
    st.rerun()  # draw the page from the stored result (the run button's label changes too)


def stored_result(key: tuple[str, ...] | None) -> dict[str, object] | None:
    """The stored {"key", "result", "fit"} when it belongs to `key`."""
    stored = st.session_state["eval_result"]
    return stored if key is not None and stored is not None and stored["key"] == key else None
