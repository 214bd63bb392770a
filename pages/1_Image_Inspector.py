"""Image Inspector: upload images (or pick samples), see every step of each prediction, debug a misclassification.

A recipe: read the widgets → call `core` → lay the results out. Logits come only from the cached loader, so
moving k, T or softmax/sigmoid never runs the model again; the expensive extras (preprocessing check,
Grad-CAM, a second model) run only in the tab that is open, or when asked, and are cached too.
"""

import streamlit as st

from core import LogitscopeError, run_checks, worst_status
from core.attribution import overlay
from core.i18n import escape_markdown, t
from core.inspector import (
    class_option_text,
    class_sweep_figure,
    compare_models,
    compare_preprocessing,
    export_csv,
    export_json,
    export_stem,
    format_probability,
    format_ratio,
    inspect_images,
    lab_payload,
    prediction_figures,
    prediction_record,
    query_class,
    score_lines,
    score_table,
    search_labels,
    summary_table,
)
from core.registry import choose_labels, get_spec, list_models, spec_labels
from ui.cache import as_tensor, cached_logits, current_model, get_model
from ui.inspector import (
    cached_gradcam,
    cached_variant_logits,
    cached_view,
    compare_columns,
    image_inputs,
    inspector_controls,
    table_columns,
    tensor_of,
    variant_columns,
)
from ui.sidebar import shared_sidebar

st.set_page_config(page_title="Image Inspector · logitscope", page_icon=":material/image_search:", layout="wide")
controls = shared_sidebar()
lang = controls.lang
knobs = inspector_controls(lang)
k, temperature, scores = knobs.k, knobs.temperature, knobs.scores

STATUS_ICON = {
    "pass": ":green[:material/check_circle:]",
    "warn": ":orange[:material/warning:]",
    "fail": ":red[:material/cancel:]",
    "error": ":red[:material/broken_image:]",
}

st.title(t("inspector.title", lang))
st.caption(t("inspector.intro", lang))

# ---------------------------------------------------------------- the model and its labels
try:
    model = current_model(controls)
except LogitscopeError as exc:
    st.error(escape_markdown(str(exc)), icon=":material/error:")
    st.stop()
spec = model.spec
label_file = controls.label_file
choice = choose_labels(
    spec,
    controls.label_mode,
    file_data=label_file.data if label_file else None,
    file_name=label_file.name if label_file else "labels.txt",
)
if choice.warning:
    st.warning(escape_markdown(choice.warning), icon=":material/label_off:")
labels, other_labels = choice.labels, choice.other
# every name a class is known by, for the "what about class X?" search (English and Chinese both)
search_names = [labels, spec_labels(spec, "en"), spec_labels(spec, "zh") if spec.label_set else None]

# ---------------------------------------------------------------- inputs
items = image_inputs(lang)
if not items:
    st.info(t("inspector.nothing", lang), icon=":material/add_photo_alternate:")
    st.stop()

progress = st.progress(0.0, text=t("inspector.running", lang, n=len(items))) if len(items) > 1 else None


def show_progress(done: int, total: int, name: str) -> None:
    if progress is not None:
        progress.progress(
            done / total, text=t("inspector.progress", lang, done=done, total=total, name=escape_markdown(name))
        )


results = inspect_images(
    items,
    view_of=lambda name, data: cached_view(spec.name, data, name, spec.preprocessing),
    logits_of=lambda name, data: as_tensor(cached_logits(spec.name, data, name, model)),
    on_progress=show_progress,
)
if progress is not None:
    progress.empty()

# ---------------------------------------------------------------- several images: the summary first
if len(results) > 1:
    st.subheader(t("inspector.summary", lang, n=len(results)))
    summary = summary_table(results, labels, temperature=temperature, scores=scores, num_classes=spec.num_classes)
    summary["status"] = [t(f"inspector.status.{s}", lang) for s in summary["status"]]
    st.dataframe(
        summary.drop(columns=["index"]),
        hide_index=True,
        width="stretch",
        column_config=table_columns(lang, temperature=temperature, scores=scores),
    )
for failed in (r for r in results if not r.ok):
    st.error(escape_markdown(failed.error or ""), icon=":material/broken_image:")
good = [r for r in results if r.ok]
if not good:
    st.stop()

by_key = {r.key: r for r in good}
if len(by_key) > 1:
    picked = st.selectbox(
        t("inspector.details_for", lang),
        list(by_key),
        format_func=lambda key: by_key[key].name,
        key="inspector_detail",
    )
    result = by_key[picked or next(iter(by_key))]
else:
    result = good[0]
assert result.view is not None and result.logits is not None  # a good result has both
view, logits = result.view, result.logits
stem = export_stem(result.name, spec.name)

# ---------------------------------------------------------------- 1. what the model sees, 2. what it says
st.divider()
st.subheader(escape_markdown(result.name))
st.caption(t("inspector.model_caption", lang, model=escape_markdown(spec.title)))
table = score_table(logits, labels, k=k, temperature=temperature, scores=scores, other_labels=other_labels)
checks = run_checks(logits, labels=labels, num_classes=spec.num_classes, k=k, temperature=temperature, lang=lang)

original_column, input_column, verdict_column = st.columns([1, 1, 1.25], gap="medium")
with original_column:
    width, height = view.original_size
    st.image(
        view.preview, caption=t("inspector.original", lang, w=width, h=height, mode=view.original_mode), width="stretch"
    )
    for note in view.notes:
        st.caption(f":material/info: {escape_markdown(note)}")
with input_column:
    st.image(
        view.model_input,
        caption=t("inspector.model_input", lang, shape=" × ".join(map(str, view.input_shape))),
        width="stretch",
    )
    st.caption(t("inspector.pipeline", lang))
    st.code(spec.preprocessing.describe(), language=None, wrap_lines=True)
with verdict_column:
    st.markdown(f"**{t(f'inspector.lines.{scores}', lang, k=len(table), temperature=temperature)}**")
    st.code("\n".join(score_lines(table)), language=None)
    worst = worst_status(checks)
    with st.container(border=True):
        st.markdown(f"{STATUS_ICON[worst]} **{t('inspector.checks', lang)}** · {t(f'inspector.checks.{worst}', lang)}")
        st.markdown("  \n".join(f"{STATUS_ICON[c.status]} {escape_markdown(c.message)}" for c in checks))

st.markdown(f"**{t(f'inspector.table.{scores}', lang, k=len(table), temperature=temperature)}**")
# at T = 1 the "at T = 1" column would repeat the one before it
shown_columns = [c for c in table.columns if temperature != 1.0 or c not in ("probability_t1", "score_t1")]
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_order=shown_columns,
    column_config=table_columns(lang, temperature=temperature, scores=scores),
)
if scores == "sigmoid":
    st.info(t("inspector.sigmoid_explained", lang), icon=":material/info:")

# ---------------------------------------------------------------- 7. downloads, 8. Logits Lab
record = prediction_record(
    image=result.name,
    model=spec.name,
    logits=logits,
    labels=labels,
    k=k,
    temperature=temperature,
    checks=checks,
    notes=view.notes,
    preprocessing=spec.preprocessing.describe(),
    other_labels=other_labels,
)
actions = st.container(horizontal=True, gap="small")
actions.download_button(
    t("inspector.download_csv", lang),
    export_csv(logits, labels, temperature=temperature, other_labels=other_labels),
    file_name=f"{stem}_logits.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
)
actions.download_button(
    t("inspector.download_json", lang),
    export_json(record),
    file_name=f"{stem}_prediction.json",
    mime="application/json",
    icon=":material/data_object:",
    on_click="ignore",
)
if actions.button(
    t("inspector.open_lab", lang),
    icon=":material/science:",
    key="inspector_open_lab",
    help=t("inspector.open_lab_help", lang),
):
    st.session_state["lab_from_inspector"] = lab_payload(logits, labels, source=f"{result.name} · {spec.name}")
    st.switch_page("pages/2_Logits_Lab.py")

# ---------------------------------------------------------------- 3, 5, 6 and model comparison: one tab at a time
charts_tab, preprocessing_tab, class_tab, compare_tab = st.tabs(
    [
        t("inspector.tab.charts", lang),
        t("inspector.tab.preprocessing", lang),
        t("inspector.tab.class", lang),
        t("inspector.tab.compare", lang),
    ],
    key="inspector_tab",
    on_change="rerun",
)
chart_config = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}

if charts_tab.open:
    with charts_tab:
        figures = prediction_figures(logits, labels, k=k, temperature=temperature, scores=scores, lang=lang)
        for row in (("bars", "distribution"), ("sweep", "entropy")):
            for column, name in zip(st.columns(2), row, strict=True):
                config = {
                    **chart_config,
                    "toImageButtonOptions": {**chart_config["toImageButtonOptions"], "filename": f"{stem}_{name}"},
                }
                column.plotly_chart(figures[name], width="stretch", config=config, key=f"inspector_chart_{name}")
        st.caption(t("inspector.charts_caption", lang))

if preprocessing_tab.open:
    with preprocessing_tab:
        st.caption(t("inspector.preprocessing_intro", lang))
        with st.spinner(t("inspector.preprocessing_running", lang)):
            variant_logits = {
                name: tensor_of(z)
                for name, z in cached_variant_logits(spec.name, result.data, result.name, model).items()
            }
        variants = compare_preprocessing(variant_logits, labels, spec.preprocessing, k=5, temperature=temperature)
        for column, variant in zip(st.columns(len(variants)), variants, strict=True):
            with column, st.container(border=True):
                mark = STATUS_ICON["warn"] if variant.changed else STATUS_ICON["pass"]
                st.markdown(f"{mark} **{t(f'inspector.variant.{variant.id}', lang)}**")
                st.code(variant.description, language=None)
                st.dataframe(
                    variant.table[["rank", "label", "probability"]],
                    hide_index=True,
                    width="stretch",
                    column_config=variant_columns(lang, temperature=temperature),
                )
        changed = [v for v in variants if v.changed]
        own_top = escape_markdown(labels[variants[0].top1])
        if changed:
            for variant in changed:
                st.warning(
                    t(
                        "inspector.variant_changed",
                        lang,
                        variant=t(f"inspector.variant.{variant.id}", lang),
                        own=own_top,
                        other=escape_markdown(labels[variant.top1]),
                    ),
                    icon=":material/warning:",
                )
        else:
            st.success(t("inspector.variant_same", lang, own=own_top), icon=":material/check_circle:")

if class_tab.open:
    with class_tab:
        order = table["index"].tolist()
        default_x = order[1] if len(order) > 1 else order[0]
        options = list(range(spec.num_classes))
        picked_x = st.selectbox(
            t("inspector.class_pick", lang),
            options,
            index=default_x,
            format_func=lambda i: class_option_text(i, *search_names) if isinstance(i, int) else str(i),
            key=f"inspector_x_{spec.name}_{result.key}",
            filter_mode="contains",
            accept_new_options=True,
            help=t("inspector.class_pick_help", lang),
        )
        if isinstance(picked_x, str):  # typed text that is not an option: take the best match
            matches = search_labels(picked_x, *search_names, limit=1)
            if not matches:
                st.warning(
                    t("inspector.class_no_match", lang, query=escape_markdown(picked_x)), icon=":material/search_off:"
                )
            picked_x = matches[0] if matches else default_x
        x = query_class(logits, int(picked_x), temperature=temperature, scores=scores)
        name_x, name_top = labels[x.index], labels[x.top1]
        rank_column, logit_column, score_column, margin_column = st.columns(4)
        rank_column.metric(t("inspector.x.rank", lang), f"{x.rank} / {x.num_classes}", border=True)
        logit_column.metric(t("inspector.x.logit", lang), f"{x.logit:.3f}", border=True)
        score_column.metric(
            t(f"inspector.x.{scores}", lang, temperature=temperature), format_probability(x.score), border=True
        )
        margin_column.metric(t("inspector.x.margin", lang), f"{x.margin:.3f}", border=True)
        st.text(
            t(
                "inspector.x.sentence",
                lang,
                x=name_x,
                rank=x.rank,
                top=name_top,
                margin=x.margin,
                temperature=temperature,
                odds=format_ratio(x.odds),
            )
            if x.rank > 1
            else t("inspector.x.is_top", lang, x=name_x)
        )
        st.info(t("inspector.x.no_temperature", lang), icon=":material/lightbulb:")
        st.plotly_chart(
            class_sweep_figure(logits, labels, [x.top1, x.index], temperature=temperature, lang=lang),
            width="stretch",
            config=chart_config,
            key="inspector_chart_class_sweep",
        )
        st.markdown(f"**{t('inspector.gradcam', lang)}**")
        if st.toggle(
            t("inspector.gradcam_toggle", lang), key="inspector_gradcam", help=t("inspector.gradcam_help", lang)
        ):
            input_column, *map_columns = st.columns(3)
            input_column.image(view.model_input, width="stretch")
            input_column.text(t("inspector.gradcam_input", lang))
            targets = [(t("inspector.gradcam_top1", lang), x.top1), (t("inspector.gradcam_x", lang), x.index)]
            for column, (title, target) in zip(map_columns, targets, strict=True):
                with column:
                    try:
                        with st.spinner(t("inspector.gradcam_running", lang)):
                            heat = cached_gradcam(spec.name, result.data, result.name, target, model)
                    except LogitscopeError as exc:
                        st.warning(escape_markdown(str(exc)), icon=":material/warning:")
                        continue
                    st.image(overlay(view.model_input, tensor_of(heat)), width="stretch")
                    st.text(f"{title}: {labels[target]}")
            st.caption(t("inspector.gradcam_caption", lang))

if compare_tab.open:
    with compare_tab:
        others = [name for name in list_models() if name != spec.name]
        second_name = st.selectbox(
            t("inspector.compare_pick", lang),
            others,
            index=None,
            key="inspector_compare_model",
            width=420,
            placeholder=t("inspector.compare_placeholder", lang),
            format_func=lambda n: (
                n if get_spec(n).availability().available else f"{n} · {t('sidebar.not_downloaded', lang)}"
            ),
        )
        if second_name is None:
            st.caption(t("inspector.compare_intro", lang))
        else:
            try:
                second = get_model(second_name)
                second_logits = as_tensor(cached_logits(second.spec.name, result.data, result.name, second))
            except LogitscopeError as exc:
                st.error(escape_markdown(str(exc)), icon=":material/error:")
            else:
                second_mode = controls.label_mode if controls.label_mode in ("en", "zh") else "en"
                second_labels = choose_labels(second.spec, second_mode).labels
                both = compare_models(
                    (spec.name, logits, labels),
                    (second.spec.name, second_logits, second_labels),
                    k=5,
                    temperature=temperature,
                )
                st.dataframe(
                    both,
                    hide_index=True,
                    width="stretch",
                    column_config=compare_columns(lang, [spec.name, second.spec.name]),
                )
                first_top, second_top = both[spec.name].iloc[0], both[second.spec.name].iloc[0]
                key = "inspector.compare_agree" if first_top == second_top else "inspector.compare_disagree"
                st.text(t(key, lang, first=first_top, second=second_top))
                st.caption(
                    t(
                        "inspector.compare_preprocessing",
                        lang,
                        first=spec.preprocessing.describe(),
                        second=second.spec.preprocessing.describe(),
                    )
                )
