"""The engine: marginalization, canonical forms, cumulants, subset transforms
(Möbius / Walsh / subset convolution), cumulant series and trained-weight importers.
"""
