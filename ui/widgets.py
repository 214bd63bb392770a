"""Widgets whose label and options are i18n keys: one call instead of the label, the options' names and the
`format_func` written out at every choice of the pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core.i18n import t


def translated_choice(
    widget: Callable[..., Any],
    label: str,
    options: Sequence[str],
    *,
    lang: str,
    key: str,
    names: str | None = None,
    **kwargs: Any,
) -> Any:
    """`widget` (st.radio, st.segmented_control, a column's) labelled `t(label)`, each option `o` shown as
    `t(f"{names}.{o}")` (`names` defaults to `label`); the rest of the widget's arguments pass through."""
    prefix = names or label
    return widget(t(label, lang), options, key=key, format_func=lambda o: t(f"{prefix}.{o}", lang), **kwargs)
