"""Small charts drawn on the server as SVG: no script, no CDN, no web font.

Each chart repeats a table that stands beside it on the page; the table is the
accessible form of the figures, the chart a picture of them. Every piece of text is
escaped here, so the result is returned as ``Markup`` and can be put into a page as is.
The charts are sized by their ``viewBox`` and scale to the width they are given.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

SVG_NS = "http://www.w3.org/2000/svg"
BAR_FILL = "#0b57d0"  # the link blue of app.css: 7:1 on white
TEXT_FILL = "#1f2328"
MUTED_FILL = "#57606a"
AXIS_STROKE = "#8c959f"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value, and an optional second line under a column's
    label (the year under a month)."""

    label: str
    value: int | float
    note: str = ""
    shown: str | None = None  # the text shown for the value, when not the number itself


def text_width(text: str, font_size: float) -> float:
    """A rough width of ``text``: CJK characters are a full em, others about 0.6 em."""
    wide = sum(1 for char in text if unicodedata.east_asian_width(char) in "WF")
    return (wide + 0.6 * (len(text) - wide)) * font_size


def fit(text: str, width: float, font_size: float) -> str:
    """``text``, cut short with an ellipsis when it would be wider than ``width``."""
    if text_width(text, font_size) <= width:
        return text
    while text and text_width(text + "…", font_size) > width:
        text = text[:-1]
    return text + "…"


def _number(value: int | float) -> str:
    return f"{value:,}"


def _value_text(bar: Bar) -> str:
    return bar.shown if bar.shown is not None else _number(bar.value)


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    label = escape(title)
    # Every text in it was escaped (label, the parts' own texts); the rest is numbers.
    return Markup(  # nosec B704
        f'<svg xmlns="{SVG_NS}" class="chart" role="img" aria-label="{label}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        f"<title>{label}</title>{''.join(body)}</svg>"
    )


def horizontal_bar_chart(bars: Sequence[Bar], *, title: str, width: int = 360) -> Markup:
    """Bars from the left, largest value full width; each label sits above its bar so
    that long category names keep the whole width on a phone."""
    font, bar_height, row = 14, 14, 40
    value_room = 8 + text_width(_number(max((b.value for b in bars), default=0)), font)
    longest = width - value_room
    top = max((b.value for b in bars), default=0) or 1
    height = max(row * len(bars), row) + 4
    body: list[str] = []
    for i, bar in enumerate(bars):
        y = i * row
        length = round(longest * bar.value / top, 1)
        if bar.value and length < 2:
            length = 2  # a non-zero count stays visible
        body.append(
            f'<text x="0" y="{y + 15}" font-size="{font}" fill="{TEXT_FILL}">'
            f"{escape(fit(bar.label, width, font))}</text>"
            f'<rect class="chart-bar" x="0" y="{y + 21}" width="{length}" '
            f'height="{bar_height}" fill="{BAR_FILL}"/>'
            f'<text x="{round(length + 6, 1)}" y="{y + 33}" font-size="{font}" '
            f'fill="{TEXT_FILL}">{_number(bar.value)}</text>'
        )
    return _svg(width, height, title, body)


def column_chart(
    bars: Sequence[Bar], *, title: str, width: int = 360, plot_height: int = 150
) -> Markup:
    """Columns from a baseline, left to right (months, oldest first): the value above
    each column when every value fits its slot, the label and note below."""
    label_font, note_font, value_font = 12, 11, 12
    top_room, bottom_room = 18, 36
    height = top_room + plot_height + bottom_room
    slot = width / max(len(bars), 1)
    column = round(slot * 0.64, 1)
    top = max((b.value for b in bars), default=0) or 1
    show_values = all(text_width(_value_text(b), value_font) <= slot - 2 for b in bars)
    baseline = top_room + plot_height
    body = [
        f'<line x1="0" y1="{baseline}" x2="{width}" y2="{baseline}" '
        f'stroke="{AXIS_STROKE}" stroke-width="1"/>'
    ]
    for i, bar in enumerate(bars):
        middle = round(slot * i + slot / 2, 1)
        length = round(plot_height * bar.value / top, 1)
        if bar.value and length < 2:
            length = 2
        body.append(
            f'<rect class="chart-bar" x="{round(middle - column / 2, 1)}" '
            f'y="{round(baseline - length, 1)}" width="{column}" height="{length}" '
            f'fill="{BAR_FILL}"/>'
        )
        if show_values:
            body.append(
                f'<text x="{middle}" y="{round(baseline - length - 4, 1)}" '
                f'font-size="{value_font}" text-anchor="middle" fill="{TEXT_FILL}">'
                f"{escape(_value_text(bar))}</text>"
            )
        body.append(
            f'<text x="{middle}" y="{baseline + 16}" font-size="{label_font}" '
            f'text-anchor="middle" fill="{TEXT_FILL}">{escape(fit(bar.label, slot, label_font))}'
            "</text>"
        )
        if bar.note:
            body.append(
                f'<text x="{middle}" y="{baseline + 31}" font-size="{note_font}" '
                f'text-anchor="middle" fill="{MUTED_FILL}">{escape(bar.note)}</text>'
            )
    return _svg(width, height, title, body)
