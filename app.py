"""logitscope: the router. It names the pages (in the UI language), sets the page config once and runs the chosen page.

`streamlit run app.py` starts here; every page file lives in `pages/` and draws the shared sidebar itself.
"""

import streamlit as st

from core.i18n import t

# (file, title key, icon, url path): the url paths are the ones the file names gave before the router
PAGES = (
    ("pages/0_Home.py", "nav.home", ":material/biotech:", ""),
    ("pages/1_Image_Inspector.py", "nav.inspector", ":material/image_search:", "Image_Inspector"),
    ("pages/2_Logits_Lab.py", "nav.lab", ":material/experiment:", "Logits_Lab"),
    ("pages/3_Dataset_Evaluation.py", "nav.evaluate", ":material/analytics:", "Dataset_Evaluation"),
)

# the sidebar's language radio copies its value here in its on_change callback, which runs before this
# script: the menu's titles follow a language switch on the same rerun
lang = st.session_state.get("lang", "en")
page = st.navigation(
    [
        st.Page(path, title=t(key, lang), icon=icon, url_path=url or None, default=not url)
        for path, key, icon, url in PAGES
    ]
)
st.set_page_config(page_title=f"{page.title} · logitscope", page_icon=page.icon, layout="wide")
page.run()
