"""The shared sidebar: UI language, model and label language. Every page calls `shared_sidebar()`.

Streamlit forgets a widget's value when the page that drew it changes, so each choice is kept in a
plain session-state key and the widget is re-seeded from it on every page.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core import SETTINGS, get_spec, list_models
from core.i18n import LANGUAGES, t

LABEL_MODES = ("en", "zh", "both")


@dataclass(frozen=True)
class SidebarControls:
    """What the shared sidebar decided.

    Attributes:
        lang: UI language, "en" or "zh".
        model_name: registry name of the chosen model.
        label_mode: "en", "zh" or "both" (both shows the other language in a second column).
    """

    lang: str
    model_name: str
    label_mode: str

    @property
    def label_lang(self) -> str:
        """The language of the main label column."""
        return "zh" if self.label_mode == "zh" else "en"


def persistent_key(key: str, default: object) -> str:
    """Seed widget key `_w_<key>` from the kept value `key`; returns the widget key to pass to a widget."""
    st.session_state.setdefault(key, default)
    widget_key = f"_w_{key}"
    st.session_state[widget_key] = st.session_state[key]
    return widget_key


def _keep(key: str) -> None:
    st.session_state[key] = st.session_state[f"_w_{key}"]


@st.cache_data(show_spinner=False)
def _model_choices() -> dict[str, str]:
    choices = {}
    for name in list_models():
        status = get_spec(name).availability()
        choices[name] = name if status.available else f"{name} (weights not downloaded)"
    return choices


def shared_sidebar() -> SidebarControls:
    """Draw the sidebar common to every page and return its values."""
    with st.sidebar:
        lang_key = persistent_key("lang", "en")
        st.radio(
            "Language / 语言", list(LANGUAGES), key=lang_key, format_func=LANGUAGES.__getitem__,
            horizontal=True, on_change=_keep, args=("lang",),
        )
        lang = st.session_state["lang"]
        choices = _model_choices()
        model_key = persistent_key("model", SETTINGS.default_model)
        st.selectbox(
            t("sidebar.model", lang), list(choices), key=model_key, format_func=choices.__getitem__,
            on_change=_keep, args=("model",), help=t("sidebar.model_help", lang),
        )
        labels_key = persistent_key("label_mode", "en")
        st.radio(
            t("sidebar.labels", lang), LABEL_MODES, key=labels_key, horizontal=True,
            format_func=lambda mode: t(f"sidebar.labels.{mode}", lang), on_change=_keep, args=("label_mode",),
        )
    return SidebarControls(lang, st.session_state["model"], st.session_state["label_mode"])
