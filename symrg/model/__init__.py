"""The model layer: unit kinds, layers, terms and the structured energy model.

Nothing here imports the engine, the RG code or the printers (see ``pyproject.toml``,
``[tool.importlinter]``).
"""
