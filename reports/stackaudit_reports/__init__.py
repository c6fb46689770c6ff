"""stackaudit reports: rendered from the saved snapshot and audit result alone (never networkx or connectors).

- :mod:`stackaudit_reports.viewmodel`: ``build_report_view(snapshot, result, now)``, all grouping and figures
- :mod:`stackaudit_reports.html`: ``render_html(snapshot, result, *, now, diagram_svg)``, one offline file
- :mod:`stackaudit_reports.exports`: findings as JSON (with its schema), CSV and Markdown
- :mod:`stackaudit_reports.diagram`: ``build_dot(graph, title)`` and ``render(dot, fmt)`` for svg, png, dot
"""
