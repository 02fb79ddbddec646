"""What reaches the user: printers (text, LaTeX, Markdown), derivation documents, the
numeric code generator (callables and exported modules) and save/load.
"""
