"""logitscope core: what an image classifier really outputs, computed the way torch does.

A plain, typed library (it never imports streamlit): tensors, DataFrames and Plotly figures in and out.
`python -m core` is its command-line interface. Import each name from the module that defines it
(`from core.numerics import softmax`); docs/ARCHITECTURE.md maps the modules and the layers.
"""
