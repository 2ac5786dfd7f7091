"""Charts drawn on the server as inline SVG: no script, no CDN, readable by screen readers.

Each chart is an <svg role="img"> with a <title> and a <desc> that says its figures in words, axis labels
and values printed on the marks; the page puts the same figures in a table beside it. Texts come in already
translated; everything is escaped here.
"""

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 16, 46
SERIES_CLASSES = ("chart-series-1", "chart-series-2", "chart-series-3")


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float | None]


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}".rstrip("0").rstrip(".")
    return f"{text}{unit}"


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _open(chart_id: str, title: str, description: str, height: int = HEIGHT) -> list[str]:
    return [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]


def _y_axis(parts: list[str], top_value: float, unit: str, y_label: str, plot_height: int) -> None:
    for i in range(5):
        value = top_value * i / 4
        y = TOP + plot_height - plot_height * i / 4
        parts.append(f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{escape(_number(value, unit))}</text>')
    parts.append(f'<text class="chart-axis-label" x="12" y="{TOP + plot_height / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 12 {TOP + plot_height / 2:.1f})">{escape(y_label)}</text>')


def _legend(parts: list[str], series: list[Series], y: float) -> None:
    if len(series) < 2:
        return
    x = LEFT
    for index, item in enumerate(series):
        parts.append(f'<rect class="{SERIES_CLASSES[index % 3]}" x="{x}" y="{y - 9}" width="10" height="10"/>')
        parts.append(f'<text class="chart-legend" x="{x + 14}" y="{y}">{escape(item.label)}</text>')
        x += 24 + 7 * len(item.label)


def _describe(categories: list[str], series: list[Series], unit: str) -> str:
    words = []
    for item in series:
        values = ", ".join(f"{c}: {_number(v, unit)}" for c, v in zip(categories, item.values, strict=True))
        words.append(f"{item.label}: {values}." if len(series) > 1 else f"{values}.")
    return " ".join(words)


def bar_chart(
    chart_id: str, title: str, categories: list[str], series: list[Series], *, unit: str = "", y_label: str = "",
    goal: float | None = None, goal_label: str = "", top_value: float | None = None,
) -> SafeString:
    """Vertical bars, grouped when there is more than one series; a dashed line marks a goal."""
    legend_space = 18 if len(series) > 1 else 0
    height = HEIGHT + legend_space
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    values = [v for item in series for v in item.values if v is not None]
    top_value = top_value or _nice_max(max([*values, goal or 0, 0]))
    description = _describe(categories, series, unit)
    if goal is not None:
        description += f" {goal_label}: {_number(goal, unit)}."
    parts = _open(chart_id, title, description, height)
    _y_axis(parts, top_value, unit, y_label, plot_height)
    n = max(len(categories), 1)
    slot = plot_width / n
    bar = max(min(slot * 0.8 / max(len(series), 1), 40), 2)
    every = max(1, round(n / 12))
    for i, category in enumerate(categories):
        x0 = LEFT + slot * i + (slot - bar * len(series)) / 2
        for s, item in enumerate(series):
            value = item.values[i]
            if value is None:
                continue
            h = plot_height * min(value, top_value) / top_value
            x, y = x0 + bar * s, TOP + plot_height - h
            parts.append(
                f'<rect class="{SERIES_CLASSES[s % 3]}" x="{x:.1f}" y="{y:.1f}" width="{bar - 1:.1f}" '
                f'height="{h:.1f}"><title>{escape(item.label)} {escape(category)}: '
                f'{escape(_number(value, unit))}</title></rect>'
            )
            if n <= 14 and len(series) == 1:
                parts.append(f'<text class="chart-value" x="{x + bar / 2:.1f}" y="{y - 3:.1f}" '
                             f'text-anchor="middle">{escape(_number(value, unit))}</text>')
        if i % every == 0:
            parts.append(f'<text class="chart-tick" x="{LEFT + slot * i + slot / 2:.1f}" '
                         f'y="{TOP + plot_height + 16}" text-anchor="middle">{escape(category)}</text>')
    if goal is not None:
        y = TOP + plot_height - plot_height * min(goal, top_value) / top_value
        parts.append(f'<line class="chart-goal" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart-goal-label" x="{WIDTH - RIGHT - 4}" y="{y - 5:.1f}" text-anchor="end">'
                     f'{escape(goal_label)} {escape(_number(goal, unit))}</text>')
    _legend(parts, series, HEIGHT + 8)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def line_chart(
    chart_id: str, title: str, categories: list[str], series: list[Series], *, unit: str = "", y_label: str = "",
) -> SafeString:
    """One line per series over the categories (months); a gap where a month has no value."""
    height = HEIGHT + 18
    plot_height = HEIGHT - TOP - BOTTOM
    plot_width = WIDTH - LEFT - RIGHT
    values = [v for item in series for v in item.values if v is not None]
    top_value = _nice_max(max([*values, 0]))
    parts = _open(chart_id, title, _describe(categories, series, unit), height)
    _y_axis(parts, top_value, unit, y_label, plot_height)
    n = max(len(categories), 1)
    slot = plot_width / n
    every = max(1, round(n / 12))
    for i, category in enumerate(categories):
        if i % every == 0:
            parts.append(f'<text class="chart-tick" x="{LEFT + slot * i + slot / 2:.1f}" '
                         f'y="{TOP + plot_height + 16}" text-anchor="middle">{escape(category)}</text>')
    for s, item in enumerate(series):
        segments, current = [], []
        for i, value in enumerate(item.values):
            if value is None:
                if current:
                    segments.append(current)
                current = []
                continue
            x = LEFT + slot * i + slot / 2
            y = TOP + plot_height - plot_height * value / top_value
            current.append((x, y, categories[i], value))
        if current:
            segments.append(current)
        for segment in segments:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y, _c, _v in segment)
            parts.append(f'<polyline class="chart-line {SERIES_CLASSES[s % 3]}" points="{points}"/>')
            for x, y, category, value in segment:
                parts.append(f'<circle class="{SERIES_CLASSES[s % 3]}" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
                             f'<title>{escape(item.label)} {escape(category)}: {escape(_number(value, unit))}'
                             f'</title></circle>')
    _legend(parts, series, HEIGHT + 8)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def hbar_chart(
    chart_id: str, title: str, labels: list[str], series: list[Series], *, unit: str = "", x_label: str = "",
) -> SafeString:
    """Horizontal bars, one row per label (stations, chapters), grouped when there is more than one series."""
    row = 14 * len(series) + 8
    label_width = 170
    plot_width = WIDTH - label_width - 70
    legend_space = 22 if len(series) > 1 else 0
    height = TOP + row * max(len(labels), 1) + 30 + legend_space
    values = [v for item in series for v in item.values if v is not None]
    top_value = _nice_max(max([*values, 0]))
    parts = _open(chart_id, title, _describe(labels, series, unit), height)
    for i, label in enumerate(labels):
        y0 = TOP + row * i
        short = label if len(label) <= 26 else label[:25] + "…"
        parts.append(f'<text class="chart-tick" x="{label_width - 8}" y="{y0 + row / 2 + 3:.1f}" '
                     f'text-anchor="end">{escape(short)}</text>')
        for s, item in enumerate(series):
            value = item.values[i]
            if value is None:
                continue
            w = plot_width * value / top_value
            y = y0 + 4 + 14 * s
            parts.append(f'<rect class="{SERIES_CLASSES[s % 3]}" x="{label_width}" y="{y}" width="{w:.1f}" '
                         f'height="12"><title>{escape(item.label)} {escape(label)}: '
                         f'{escape(_number(value, unit))}</title></rect>')
            parts.append(f'<text class="chart-value" x="{label_width + w + 4:.1f}" y="{y + 10}">'
                         f'{escape(_number(value, unit))}</text>')
    axis_y = TOP + row * max(len(labels), 1) + 18
    parts.append(f'<text class="chart-axis-label" x="{label_width + plot_width / 2:.1f}" y="{axis_y}" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    _legend(parts, series, axis_y + 20)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
