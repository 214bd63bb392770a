"""The client-side logits explorer: static browser code (assets/) and the data it is given (payload), shared by the
Streamlit component (ui/explorer.py) and the offline HTML report (core/report.py; its part in embed)."""
