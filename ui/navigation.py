"""The app's pages, defined once: the router (app.py), the Home page's links and the handoffs between pages use this
table; and the session-state keys one page hands another."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.i18n import t

# an image handed to the Image Inspector by another page: {"name": str, "bytes": bytes}; it joins the inputs
INSPECTOR_HANDOFF = "inspector_handoff"
# one prediction handed to the Logits Lab by the Inspector: `core.prediction.downloads.lab_payload`
LAB_HANDOFF = "lab_from_inspector"


@dataclass(frozen=True)
class PageEntry:
    """One page: its file, title (an i18n key), icon and URL path ("" for the default page)."""

    path: str
    title_key: str
    icon: str
    url_path: str

    def page(self, lang: str) -> st.Page:
        """The `st.Page` of this entry, titled in `lang`."""
        return st.Page(
            self.path,
            title=t(self.title_key, lang),
            icon=self.icon,
            url_path=self.url_path or None,
            default=not self.url_path,
        )

    def link(self, lang: str) -> None:
        """A link to this page (Streamlit's `page_link`), titled in `lang`."""
        st.page_link(self.path, label=t(self.title_key, lang), icon=self.icon)

    def go(self) -> None:
        """Switch to this page now (after a handoff was put in session state)."""
        st.switch_page(self.path)


# the url paths are the ones the file names gave before the router, so old links keep working
HOME = PageEntry("pages/0_Home.py", "nav.home", ":material/biotech:", "")
INSPECTOR = PageEntry("pages/1_Image_Inspector.py", "nav.inspector", ":material/image_search:", "Image_Inspector")
LAB = PageEntry("pages/2_Logits_Lab.py", "nav.lab", ":material/experiment:", "Logits_Lab")
EVALUATION = PageEntry("pages/3_Dataset_Evaluation.py", "nav.evaluate", ":material/analytics:", "Dataset_Evaluation")
PAGES = (HOME, INSPECTOR, LAB, EVALUATION)


def navigation(lang: str) -> st.Page:
    """The router: every page in the menu, titled in `lang`; returns the page to run."""
    return st.navigation([entry.page(lang) for entry in PAGES])
