"""Models: what a model is (`spec`), the ones that ship (`builtin`, `torchvision_hub`), the registry that names them
(`registry`), the names their classes are shown with (`labels`) and the user's own weights (`checkpoint`)."""
