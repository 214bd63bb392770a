"""logitscope: the router. It names the pages (in the UI language), sets the page config once and runs the chosen page.

`streamlit run app.py` starts here; every page file lives in `pages/` (listed once, in `ui.navigation`) and draws the
shared sidebar itself.
"""

import streamlit as st

from ui.navigation import navigation

# the sidebar's language radio copies its value here in its on_change callback, which runs before this
# script: the menu's titles follow a language switch on the same rerun
page = navigation(st.session_state.get("lang", "en"))
st.set_page_config(page_title=f"{page.title} · logitscope", page_icon=page.icon, layout="wide")
page.run()
