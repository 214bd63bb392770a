"""One-file HTML reports to hand over: `document` (the page, its CSS and CSP, escaping, charts with plotly.js inlined
once), `inspector` (images) and `evaluation` (a labelled set)."""
