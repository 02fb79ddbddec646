"""Real-space RG: recursion maps and their analysis, chain decimation, Migdal-Kadanoff,
lattices, coarse-graining rules, block RG (exact and cumulant expansion), flow diagrams.
"""
