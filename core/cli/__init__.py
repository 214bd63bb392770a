"""`python -m core`: the library's command line (`main`), one module per command."""
