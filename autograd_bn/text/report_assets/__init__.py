"""The report page's template, styles and script (data files, inlined by report.py)."""
