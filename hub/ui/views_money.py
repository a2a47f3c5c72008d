"""Money: who owes what (overdue first), and the monthly report the tutoring example runs —
invoiced, collected, outstanding — as a table, a chart drawn on the server (the UI runs no
scripts) and a CSV download. The figures come from whichever plugin answers ``receivables``."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from flask import Response, render_template

from hub.reports import MonthFigures
from hub.ui.blueprint import bp, current_hub

CHART_HEIGHT = 160
BAR = 14


def chart(months: list[MonthFigures]) -> dict[str, Any]:
    """Bars for the last 12 months, oldest first, scaled to the largest figure."""
    shown = list(reversed(months[:12]))
    top = max([m.invoiced for m in shown] + [Decimal(1)])
    groups = []
    for i, m in enumerate(shown):
        x = 40 + i * (3 * BAR + 14)
        bars = []
        for j, (kind, value) in enumerate((("invoiced", m.invoiced),
                                           ("collected", m.collected),
                                           ("outstanding", m.outstanding))):
            height = int(CHART_HEIGHT * value / top)
            bars.append({"kind": kind, "x": x + j * BAR, "y": 10 + CHART_HEIGHT - height,
                         "height": height, "value": f"{value:.2f}"})
        groups.append({"month": m.month, "x": x, "bars": bars})
    return {"groups": groups, "width": 60 + len(shown) * (3 * BAR + 14),
            "height": CHART_HEIGHT + 40, "top": f"{top:.2f}"}


@bp.get("/money")
def money() -> Any:
    report = current_hub().receivables()
    return render_template("ui/money.html", nav="money", report=report,
                           chart=chart(report.months) if report and report.months else None)


@bp.get("/money/monthly.csv")
def money_csv() -> Response:
    report = current_hub().receivables()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "invoiced", "collected", "outstanding"])
    for m in report.months if report else []:
        writer.writerow([m.month, f"{m.invoiced:.2f}", f"{m.collected:.2f}",
                         f"{m.outstanding:.2f}"])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="monthly-report.csv"'})
