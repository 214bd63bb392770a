"""Placeholder until the page lands."""

import streamlit as st

from ui.sidebar import shared_sidebar

shared_sidebar()
st.info("This page is being built.")
