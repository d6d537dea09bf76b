"""Formatting `autograd_bn.check`'s results for people: the comparison table (`table`), the
dL_mu2 explanation (`explain`), the trace (`trace`), numbers (`numbers`) and the HTML report
(`report`, `report_tables`, `report_assets`)."""
