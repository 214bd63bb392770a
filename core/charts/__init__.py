"""Plotly figures, built by pure functions: numbers in, `go.Figure` out (tested through `fig.data`).

- `common`: the one palette, font, layout, log-T axis and safe label text every figure uses;
- `prediction`: one prediction (logits vs probabilities, distribution, T sweep, entropy);
- `lab`: the Logits Lab's figures (filters, sampling, dim=, headline, sweep);
- `evaluate`: a dataset evaluation (reliability, confidence histogram, confusion matrix);
- `diagnose`: debugging a set (embedding map, most-confused classes);
- `pipeline`: the prediction pipeline as a Graphviz graph.
"""
