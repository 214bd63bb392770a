"""The Image Inspector's UI: its knobs and image inputs (`controls`), its link (`links`), its results (`view`)."""
