"""Streamlit-side helpers shared by app.py and pages/: the sidebar, the cached loaders, small renderers.

Everything that computes lives in `core`; this package only holds widgets and caches.
"""
