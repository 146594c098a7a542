"""Charts drawn as SVG on the server: the weekly trend and the unit × territory heat map of overdue items.

Plain strings, no library: the console works offline and the figures are the same in a browser, a screenshot or
an exported page. Every number is also in a <title>, so hovering a bar or a cell tells its exact value.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any
from urllib.parse import quote

FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','PingFang SC',sans-serif"
SERIES = (("received", "受理量", "#4c78a8"), ("closed", "办结量", "#54a24b"), ("overdue", "超期件", "#e45756"))


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    for step in (1, 2, 2.5, 5):
        magnitude = 10 ** (len(str(int(value))) - 1)
        top = int(step * magnitude)
        if top >= value:
            return top
    return 10 ** len(str(int(value)))


def trend_svg(weeks: list[dict[str, Any]], *, width: int = 640, height: int = 250) -> str:
    """Grouped bars of received and closed per week, the overdue count as a line over them."""
    left, right, top, bottom = 44, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([max(w["received"], w["closed"], w["overdue"]) for w in weeks] + [0])
    y_max = _nice_max(peak)
    n = max(1, len(weeks))
    slot = plot_w / n
    bar = max(2.0, min(16.0, slot * 0.32))

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / y_max

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart trend" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="按周受理、办结与超期趋势" '
        f'font-family="{FONT}" font-size="11">'
    ]
    for i in range(5):
        v = y_max * i / 4
        yy = y(v)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e3e6ea"/>')
        parts.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="#5f6b7a">{v:g}</text>')
    points = []
    for i, w in enumerate(weeks):
        cx = left + slot * i + slot / 2
        week: date = w["week"]
        label = f"{week:%m-%d}"
        for j, (key, name, colour) in enumerate(SERIES[:2]):
            x = cx - bar + j * bar
            h = plot_h * w[key] / y_max
            parts.append(
                f'<rect class="bar {key}" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{week:%Y-%m-%d}起一周 {name} {w[key]}</title></rect>'
            )
        points.append((cx, y(w["overdue"]), w))
        if n <= 16 or i % 2 == 0:
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 15}" text-anchor="middle" fill="#5f6b7a">{label}</text>'
            )
    if points:
        path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{SERIES[2][2]}" stroke-width="2"/>')
        for x, yy, w in points:
            parts.append(
                f'<circle class="dot overdue" cx="{x:.1f}" cy="{yy:.1f}" r="3" fill="{SERIES[2][2]}">'
                f"<title>{w['week']:%Y-%m-%d}起一周 超期件 {w['overdue']}</title></circle>"
            )
    parts.append(f'<text x="{left}" y="{height - 6}" fill="#5f6b7a">周（起始日）</text>')
    lx = width - right - 230
    for j, (_, name, colour) in enumerate(SERIES):
        x = lx + j * 78
        shape = (
            f'<rect x="{x}" y="9" width="12" height="10" fill="{colour}"/>'
            if j < 2
            else f'<line x1="{x}" x2="{x + 12}" y1="14" y2="14" stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(shape + f'<text x="{x + 16}" y="18" fill="#333">{name}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _heat_colour(value: int, peak: int) -> str:
    if value <= 0:
        return "#f4f6f8"
    ratio = value / max(peak, 1)
    # from a pale orange to a deep red: light enough at the low end for dark text
    r0, g0, b0 = 253, 224, 197
    r1, g1, b1 = 189, 0, 38
    r, g, b = (round(a + (c - a) * ratio) for a, c in ((r0, r1), (g0, g1), (b0, b1)))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap_svg(data: dict[str, Any], *, cell_w: int = 58, cell_h: int = 22) -> str:
    """Rows are units, columns territories; the darker the cell, the more overdue items it holds now."""
    units: list[tuple[str, str]] = data["units"]
    territories: list[tuple[str, str]] = data["territories"]
    cells: dict[tuple[str, str], int] = data["cells"]
    drill = data.get("drill", "overdue=true")  # the cell's tickets: GET /api/tickets?<drill>&unit=&territory=
    label_w, head_h = 150, 30
    width = label_w + cell_w * (len(territories) + 1) + 8
    height = head_h + cell_h * (len(units) + 1) + 8
    peak = max(cells.values(), default=0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart heatmap" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="承办单位与属地超期件热力图" '
        f'font-family="{FONT}" font-size="11">'
    ]
    for j, (_, name) in enumerate([*territories, ("", "合计")]):
        x = label_w + cell_w * j + cell_w / 2
        parts.append(
            f'<text x="{x:.1f}" y="{head_h - 10}" text-anchor="middle" fill="#333" '
            f'font-weight="{700 if name == "合计" else 400}">{escape(name)}</text>'
        )
    col_totals = [0] * len(territories)
    for i, (code, name) in enumerate(units):
        yy = head_h + cell_h * i
        parts.append(
            f'<text x="{label_w - 8}" y="{yy + cell_h / 2 + 4:.1f}" text-anchor="end" fill="#333">{escape(name)}</text>'
        )
        row_total = 0
        for j, (tcode, tname) in enumerate(territories):
            v = int(cells.get((code, tcode), 0))
            row_total += v
            col_totals[j] += v
            x = label_w + cell_w * j
            colour = _heat_colour(v, peak)
            parts.append(
                f'<rect class="cell" data-unit="{escape(code)}" data-territory="{escape(tcode)}" '
                f'data-drill="{escape(drill)}&amp;unit={quote(code)}&amp;territory={quote(tcode or "none")}" '
                f'data-title="超期未办结 · {escape(name)} × {escape(tname)}" '
                f'data-count="{v}" x="{x + 1}" y="{yy + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'rx="2" fill="{colour}"><title>{escape(name)} × {escape(tname)}：超期 {v} 件</title></rect>'
            )
            if v:
                fill = "#fff" if v / max(peak, 1) > 0.55 else "#3a1a00"
                parts.append(
                    f'<text x="{x + cell_w / 2:.1f}" y="{yy + cell_h / 2 + 4:.1f}" text-anchor="middle" '
                    f'fill="{fill}" pointer-events="none">{v}</text>'
                )
        x = label_w + cell_w * len(territories)
        parts.append(
            f'<text class="row-total" x="{x + cell_w / 2:.1f}" y="{yy + cell_h / 2 + 4:.1f}" '
            f'data-drill="{escape(drill)}&amp;unit={quote(code)}" data-title="超期未办结 · {escape(name)}" '
            f'data-count="{row_total}" text-anchor="middle" fill="#333" font-weight="700">{row_total}</text>'
        )
    yy = head_h + cell_h * len(units)
    parts.append(
        f'<text x="{label_w - 8}" y="{yy + cell_h / 2 + 4:.1f}" text-anchor="end" fill="#333" '
        f'font-weight="700">合计</text>'
    )
    for j, v in enumerate([*col_totals, sum(col_totals)]):
        x = label_w + cell_w * j + cell_w / 2
        if j < len(territories):
            tcode, tname = territories[j]
            target = f"{escape(drill)}&amp;territory={quote(tcode or 'none')}", f"超期未办结 · {escape(tname)}"
        else:
            target = escape(drill), "超期未办结"
        parts.append(
            f'<text class="col-total" x="{x:.1f}" y="{yy + cell_h / 2 + 4:.1f}" data-drill="{target[0]}" '
            f'data-title="{target[1]}" data-count="{v}" text-anchor="middle" fill="#333" font-weight="700">{v}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
