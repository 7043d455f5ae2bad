"""Charts for the board reports, laid out as SVG geometry by pure functions (issue 8).

Each builder returns a `Chart`: its title and description, the shapes to draw with
coordinates already worked out, and the same numbers as a table. The partial
`templates/reports/_chart.html` draws it; nothing here reads the database or the request,
so pages stay free of arithmetic and the layout is tested directly.

Coordinates are in viewBox units (the chart is `WIDTH` wide and scales to its column);
text widths are estimated from the number of characters, since there are no font metrics
on the server, and err on the wide side.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar, Literal, NamedTuple

# The GOV.UK Frontend palette
BLUE = "#1d70b8"
DARK_BLUE = "#003078"
GREEN = "#00703c"
YELLOW = "#ffdd00"
RED = "#d4351c"
ORANGE = "#f47738"
MID_GREY = "#b1b4b6"
DARK_GREY = "#505a5f"  # GOV.UK secondary text
BLACK = "#0b0c0c"
WHITE = "#ffffff"
SERIES_COLOURS = (BLUE, ORANGE, GREEN, DARK_BLUE, RED, BLACK)

WIDTH = 640
FONT_SIZE = 16
SMALL_FONT_SIZE = 14
CHAR_WIDTH = 0.6  # of the font size: wider than the average letter, so labels rarely collide
NO_DATA = "No data"
EN_DASH = "\u2013"


# ---------------------------------------------------------------------------
# What the builders take


@dataclass(frozen=True)
class Bar:
    """One horizontal bar; low/high draw an interval (e.g. 95%) as a whisker; href makes it a link."""

    label: str
    value: float | None
    href: str | None = None
    low: float | None = None
    high: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Segment:
    """A count within a stacked bar, under one of the chart's keys."""

    key: str
    value: float


@dataclass(frozen=True)
class StackRow:
    """One 100% stacked bar: the segments need not be in key order, and a missing key counts 0."""

    label: str
    segments: Sequence[Segment]
    href: str | None = None


class Key(NamedTuple):
    """A stacked chart's category: the key segments use, its label in legend and table, its fill."""

    key: str
    label: str
    colour: str


@dataclass(frozen=True)
class Point:
    """One point on a line; value None leaves a gap; n is the number it was worked out from."""

    x_label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    n: int | None = None


@dataclass(frozen=True)
class Series:
    """One line; colour defaults to the next in SERIES_COLOURS."""

    label: str
    points: Sequence[Point]
    colour: str | None = None


# ---------------------------------------------------------------------------
# What the partial draws


# Shapes in viewBox units, drawn by templates/reports/_chart.html; `kind` picks the SVG element.


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str
    title: str | None = None  # a tooltip
    stroke: str | None = None
    kind: ClassVar[str] = "rect"


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = BLACK
    stroke_width: float = 1
    kind: ClassVar[str] = "line"


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # the baseline
    text: str
    size: int = FONT_SIZE
    fill: str = BLACK
    anchor: Literal["start", "middle", "end"] = "start"
    underline: bool = False
    kind: ClassVar[str] = "text"


@dataclass(frozen=True)
class Path:
    d: str
    fill: str = "none"
    stroke: str | None = None
    stroke_width: float = 2
    fill_opacity: float | None = None
    kind: ClassVar[str] = "path"


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    fill: str
    title: str | None = None
    kind: ClassVar[str] = "circle"


@dataclass(frozen=True)
class Link:
    """Shapes drawn inside a keyboard-focusable <a>; label is its accessible name."""

    href: str
    label: str
    children: tuple[Element, ...]
    kind: ClassVar[str] = "link"


Element = Rect | Line | Text | Path | Circle | Link


@dataclass(frozen=True)
class Cell:
    """A table cell; numeric cells align right, as GOV.UK tables do."""

    text: str
    href: str | None = None
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    """The chart's numbers as text: the first cell of each row heads it."""

    head: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Chart:
    """Everything the partial needs: ids for aria-labelledby, the viewBox, the shapes, the table."""

    id: str
    title: str
    description: str
    width: float
    height: float
    elements: tuple[Element, ...]
    table: Table

    @property
    def view_box(self) -> str:
        return f"0 0 {_num(self.width)} {_num(self.height)}"

    @property
    def title_id(self) -> str:
        return f"{self.id}-title"

    @property
    def desc_id(self) -> str:
        return f"{self.id}-desc"

    @property
    def empty(self) -> bool:
        """True when there was nothing to draw: the page says so instead of showing axes."""
        return not self.elements

    @property
    def has_links(self) -> bool:
        return any(isinstance(element, Link) for element in self.elements)

    @property
    def role(self) -> str:
        """ "img" hides what is inside, so a chart with links is a "group" to keep them reachable."""
        return "group" if self.has_links else "img"


# ---------------------------------------------------------------------------
# Text


def format_percent(fraction: float) -> str:
    """A fraction as a whole percent, halves rounded up as people expect (0.285 -> "29%")."""
    whole = (Decimal(str(fraction)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{whole}%"


def format_number(value: float, unit: str = "") -> str:
    """Thousands separated; a whole number without decimals, anything else to one place."""
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return text + unit


def format_value(value: float | None, *, percent: bool = False, unit: str = "") -> str:
    """A value as a percent or a number; None is "No data"."""
    if value is None:
        return NO_DATA
    return format_percent(value) if percent else format_number(value, unit)


def format_interval(
    value: float | None,
    low: float | None,
    high: float | None,
    *,
    percent: bool = False,
    unit: str = "",
) -> str:
    """The value with its interval when it has one: "72% (61%–81%)"."""
    text = format_value(value, percent=percent, unit=unit)
    if value is None or low is None or high is None:
        return text
    low_text = format_value(low, percent=percent, unit=unit)
    high_text = format_value(high, percent=percent, unit=unit)
    return f"{text} ({low_text}{EN_DASH}{high_text})"


@dataclass(frozen=True)
class NumberFormat:
    """How one chart writes its numbers: fractions as percents, or numbers with a unit after them."""

    percent: bool = False
    unit: str = ""

    def value(self, value: float | None) -> str:
        return format_value(value, percent=self.percent, unit=self.unit)

    def interval(self, value: float | None, low: float | None, high: float | None) -> str:
        return format_interval(value, low, high, percent=self.percent, unit=self.unit)


def text_width(text: str, size: int = FONT_SIZE) -> float:
    """An overestimate of the text's width, for layout without font metrics."""
    return len(text) * size * CHAR_WIDTH


def text_colour_on(fill: str) -> str:
    """Black or white, whichever reads better on the fill (WCAG relative luminance)."""
    channels = [int(fill.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    # contrast with white (1.05 / (L + 0.05)) against contrast with black ((L + 0.05) / 0.05)
    return WHITE if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 else BLACK


def _num(value: float) -> str:
    """A coordinate as SVG wants it: at most two decimals, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _r(value: float) -> float:
    return round(value, 2)


# ---------------------------------------------------------------------------
# Shared pieces

_ids = itertools.count(1)


def chart_id(title: str, given: str | None = None) -> str:
    """A given id as it is, or a slug of the title made unique in this process."""
    if given:
        return given
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-")
    return f"chart-{slug or 'untitled'}-{next(_ids)}"


def _chart(
    title: str,
    description: str,
    given_id: str | None,
    height: float,
    elements: Iterable[Element],
    table: Table,
) -> Chart:
    return Chart(
        id=chart_id(title, given_id),
        title=title,
        description=description,
        width=WIDTH,
        height=_r(height),
        elements=tuple(elements),
        table=table,
    )


def _empty(title: str, description: str, given_id: str | None, head: Iterable[Cell]) -> Chart:
    return _chart(title, description, given_id, 0, (), Table(head=tuple(head), rows=()))


def _head(first: str, *numeric: str) -> tuple[Cell, ...]:
    return (Cell(first), *(Cell(text, numeric=True) for text in numeric))


def _labelled_row(label: str, href: str | None, spoken: str, y: float, body: list[Element]) -> list[Element]:
    """A row's label above its shapes; with href, the lot is one link, its label styled as a link."""
    text = Text(x=0, y=_r(y + 16), text=label, fill=BLUE if href else BLACK, underline=bool(href))
    if not href:
        return [text, *body]
    return [Link(href=href, label=spoken, children=(text, *body))]


def _no_data(baseline: float) -> Text:
    return Text(x=0, y=_r(baseline), text=NO_DATA, fill=DARK_GREY)


def legend(items: Sequence[tuple[str, str]], *, top: float = 0, width: float = WIDTH) -> tuple[list[Element], float]:
    """Swatches and labels in rows that wrap at the width; returns the shapes and the height used."""
    swatch, gap, row_height = 16, 12, 26
    elements: list[Element] = []
    x, y = 0.0, top
    for label, colour in items:
        item_width = swatch + 6 + text_width(label, SMALL_FONT_SIZE)
        if x > 0 and x + item_width > width:
            x, y = 0.0, y + row_height
        elements.append(Rect(x=_r(x), y=_r(y), width=swatch, height=swatch, fill=colour))
        elements.append(Text(x=_r(x + swatch + 6), y=_r(y + 13), text=label, size=SMALL_FONT_SIZE))
        x += item_width + gap
    height = (y - top + row_height) if items else 0
    return elements, height


def _whisker(
    low_at: float, high_at: float, at: float, cap: float, *, vertical: bool, stroke: str = BLACK
) -> list[Element]:
    """An interval from low to high with a cap across each end; `at` is where it crosses the other axis."""

    def line(a1: float, b1: float, a2: float, b2: float) -> Line:  # a along the interval, b across it
        if vertical:
            return Line(x1=_r(b1), y1=_r(a1), x2=_r(b2), y2=_r(a2), stroke=stroke, stroke_width=2)
        return Line(x1=_r(a1), y1=_r(b1), x2=_r(a2), y2=_r(b2), stroke=stroke, stroke_width=2)

    return [
        line(low_at, at, high_at, at),
        line(low_at, at - cap, low_at, at + cap),
        line(high_at, at - cap, high_at, at + cap),
    ]


# ---------------------------------------------------------------------------
# Horizontal bars

BAR_ROW = 48  # label line, then the bar
BAR_TOP = 22  # the bar's top within its row
BAR_HEIGHT = 18


def bar_chart(
    title: str,
    description: str,
    bars: Sequence[Bar],
    *,
    unit: str = "",
    max_value: float | None = None,
    percent: bool = False,
    label_heading: str = "Category",
    value_heading: str = "Value",
    id: str | None = None,
) -> Chart:
    """Horizontal bars, each labelled above and valued at its end, scaled to max_value.

    percent=True reads values as fractions shown as whole percents and scales to 100%
    unless max_value says otherwise; otherwise unit is appended to each number as
    written (" days"). Without max_value the scale runs to the largest value or high.
    """
    fmt = NumberFormat(percent, unit)
    has_notes = any(bar.note for bar in bars)
    head = _head(label_heading, value_heading) + ((Cell("Note"),) if has_notes else ())
    if all(bar.value is None for bar in bars):
        return _empty(title, description, id, head)

    value_texts = [fmt.value(bar.value) for bar in bars]
    plot_width = WIDTH - max(text_width(text) for text in value_texts) - 12
    top = max_value or (1.0 if percent else _largest(bars)) or 1.0
    scale = plot_width / top

    def x(value: float) -> float:
        return _r(min(max(value, 0), top) * scale)

    elements: list[Element] = []
    rows: list[tuple[Cell, ...]] = []
    for i, (bar, value_text) in enumerate(zip(bars, value_texts, strict=True)):
        y = i * BAR_ROW
        mid = y + BAR_TOP + BAR_HEIGHT / 2
        spoken = fmt.interval(bar.value, bar.low, bar.high)
        label = f"{bar.label} ({bar.note})" if bar.note else bar.label
        body: list[Element] = []
        if bar.value is None:
            body.append(_no_data(mid + 5))
        else:
            width = x(bar.value)
            if bar.value > 0:
                width = max(width, 2)  # a sliver, so a small value is not read as none
            body.append(
                Rect(x=0, y=y + BAR_TOP, width=width, height=BAR_HEIGHT, fill=BLUE, title=f"{bar.label}: {spoken}")
            )
            end = width
            if bar.low is not None and bar.high is not None:
                body += _whisker(x(bar.low), x(bar.high), mid, 7, vertical=False)
                end = max(end, x(bar.high))
            body.append(Text(x=_r(end + 6), y=_r(mid + 5), text=value_text))
        elements += _labelled_row(label, bar.href, f"{label}: {spoken}", y, body)
        note = (Cell(bar.note or ""),) if has_notes else ()
        rows.append((Cell(bar.label, href=bar.href), Cell(spoken, numeric=True), *note))
    return _chart(title, description, id, len(bars) * BAR_ROW, elements, Table(head=head, rows=tuple(rows)))


def _largest(bars: Sequence[Bar]) -> float:
    return max(max(bar.value or 0, bar.high or 0) for bar in bars)


# ---------------------------------------------------------------------------
# 100% stacked bars

STACK_ROW = 56
STACK_TOP = 22
STACK_HEIGHT = 26


def stacked_bar_chart(
    title: str,
    description: str,
    rows: Sequence[StackRow],
    keys: Sequence[tuple[str, str, str]],
    *,
    label_heading: str = "Category",
    total_heading: str = "Total",
    id: str | None = None,
) -> Chart:
    """100% stacked bars in key order under a legend; each segment shows its share when it fits."""
    key_list = [Key(*key) for key in keys]
    head = _head(label_heading, *(key.label for key in key_list), total_heading)
    counts = [_counts(row, key_list) for row in rows]
    if not any(sum(row_counts) for row_counts in counts):
        return _empty(title, description, id, head)

    elements, legend_height = legend([(key.label, key.colour) for key in key_list])
    top = legend_height + 10
    table_rows: list[tuple[Cell, ...]] = []
    for i, (row, row_counts) in enumerate(zip(rows, counts, strict=True)):
        y = top + i * STACK_ROW
        total = sum(row_counts)
        cells = [_share_text(count, total) for count in row_counts]
        if total:
            body = _stack(row.label, row_counts, key_list, y + STACK_TOP)
            spoken = "; ".join(f"{key.label} {cell}" for key, cell in zip(key_list, cells, strict=True))
        else:
            body, spoken = [_no_data(y + STACK_TOP + 18)], NO_DATA
        elements += _labelled_row(row.label, row.href, f"{row.label}: {spoken}", y, body)
        table_rows.append(
            (
                Cell(row.label, href=row.href),
                *(Cell(cell, numeric=True) for cell in cells),
                Cell(format_number(total), numeric=True),
            )
        )
    height = top + len(rows) * STACK_ROW
    return _chart(title, description, id, height, elements, Table(head=head, rows=tuple(table_rows)))


def _counts(row: StackRow, keys: Sequence[Key]) -> list[float]:
    known = {key.key for key in keys}
    unknown = [segment.key for segment in row.segments if segment.key not in known]
    if unknown:
        raise ValueError(f"{row.label}: segments under keys the chart does not have: {unknown}")
    return [sum(s.value for s in row.segments if s.key == key.key) for key in keys]


def _share_text(count: float, total: float) -> str:
    return f"{format_number(count)} ({format_percent(count / total)})" if total else format_number(count)


def _stack(label: str, counts: Sequence[float], keys: Sequence[Key], y: float) -> list[Element]:
    """The segments of one bar; edges come from running totals so the last ends exactly at WIDTH."""
    total = sum(counts)
    edges = [_r(WIDTH * running / total) for running in itertools.accumulate(counts, initial=0)]
    shapes: list[Element] = []
    for key, count, (left, right) in zip(keys, counts, itertools.pairwise(edges), strict=True):
        if not count:
            continue
        share = format_percent(count / total)
        tooltip = f"{label}, {key.label}: {format_number(count)} of {format_number(total)} ({share})"
        width = _r(right - left)
        shapes.append(Rect(x=left, y=y, width=width, height=STACK_HEIGHT, fill=key.colour, stroke=WHITE, title=tooltip))
        if width >= text_width(share, SMALL_FONT_SIZE) + 8:
            shapes.append(
                Text(
                    x=_r(left + width / 2),
                    y=y + 18,
                    text=share,
                    size=SMALL_FONT_SIZE,
                    fill=text_colour_on(key.colour),
                    anchor="middle",
                )
            )
    return shapes


# ---------------------------------------------------------------------------
# Lines over time

PLOT_HEIGHT = 240
LINE_GAP = 18  # between lines of text under the plot
BAND_OPACITY = 0.2


@dataclass(frozen=True)
class _Plot:
    """The plotting area of a line chart: x by position among the labels, y from 0 to y_max."""

    left: float
    right: float
    top: float
    bottom: float
    count: int
    y_max: float

    @property
    def step(self) -> float:
        return (self.right - self.left) / self.count

    def x(self, index: int) -> float:
        return _r(self.left + (index + 0.5) * self.step)

    def y(self, value: float) -> float:
        clamped = min(max(value, 0), self.y_max)
        return _r(self.bottom - clamped / self.y_max * (self.bottom - self.top))


def line_chart(
    title: str,
    description: str,
    series: Sequence[Series],
    *,
    y_max: float | None = 1.0,
    percent: bool = True,
    unit: str = "",
    interval: Literal["band", "whiskers"] = "band",
    x_heading: str = "Month",
    n_heading: str = "Number",
    id: str | None = None,
) -> Chart:
    """Lines across shared x labels (months), broken where a value is None, with n under each point.

    An interval draws as a shaded band between neighbouring points that both have one, or
    as a whisker (always so for a point with no such neighbour). y_max=None scales to the data.
    """
    fmt = NumberFormat(percent, unit)
    x_labels = list(dict.fromkeys(point.x_label for line in series for point in line.points))
    grid = [_by_label(line, x_labels) for line in series]
    # the heading of each series' row of n under the plot; None when it has no n
    n_rows = [
        (n_heading if len(series) == 1 else line.label) if any(p and p.n is not None for p in points) else None
        for line, points in zip(series, grid, strict=True)
    ]
    table = Table(
        head=_line_head(series, n_rows, x_heading, n_heading),
        rows=tuple((Cell(label), *_line_cells(grid, n_rows, i, fmt)) for i, label in enumerate(x_labels)),
    )
    values = [p for points in grid for p in points if p and p.value is not None]
    if not values:
        return _empty(title, description, id, table.head)

    top = y_max or _nice_ceiling(max(max(p.value or 0, p.high or 0) for p in values)) or 1.0
    ticks = _ticks(top)
    tick_texts = [fmt.value(tick) for tick in ticks]
    colours = [line.colour or SERIES_COLOURS[i % len(SERIES_COLOURS)] for i, line in enumerate(series)]
    elements: list[Element] = []
    legend_height = 0.0
    if len(series) > 1:
        elements, legend_height = legend([(line.label, colour) for line, colour in zip(series, colours, strict=True)])
    headings = tick_texts + [row for row in n_rows if row]
    plot = _Plot(
        left=max(text_width(text, SMALL_FONT_SIZE) for text in headings) + 10,
        right=WIDTH - 10,
        top=legend_height + 12,
        bottom=legend_height + 12 + PLOT_HEIGHT,
        count=len(x_labels),
        y_max=top,
    )
    elements += _y_axis(plot, ticks, tick_texts)
    under, under_height = _under_plot(plot, x_labels, grid, n_rows)
    elements += under
    for line, points, colour in zip(series, grid, colours, strict=True):
        elements += _series_shapes(line.label, points, colour, plot, interval, fmt, n_heading)
    return _chart(title, description, id, plot.bottom + under_height + 10, elements, table)


def _by_label(line: Series, x_labels: Sequence[str]) -> list[Point | None]:
    """The series' points in x-label order, None where it has no point for a label."""
    points = {point.x_label: point for point in line.points}
    return [points.get(label) for label in x_labels]


def _line_head(
    series: Sequence[Series], n_rows: Sequence[str | None], x_heading: str, n_heading: str
) -> tuple[Cell, ...]:
    cells = [Cell(x_heading)]
    for line, n_row in zip(series, n_rows, strict=True):
        cells.append(Cell(line.label, numeric=True))
        if n_row:
            cells.append(Cell(n_heading if len(series) == 1 else f"{n_heading} ({line.label})", numeric=True))
    return tuple(cells)


def _line_cells(
    grid: Sequence[Sequence[Point | None]], n_rows: Sequence[str | None], index: int, fmt: NumberFormat
) -> list[Cell]:
    cells = []
    for points, n_row in zip(grid, n_rows, strict=True):
        point = points[index]
        cells.append(Cell(fmt.interval(point.value, point.low, point.high) if point else NO_DATA, numeric=True))
        if n_row:
            n = point.n if point else None
            cells.append(Cell("" if n is None else format_number(n), numeric=True))
    return cells


def _nice_step(span: float, intervals: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about `intervals` gridlines."""
    raw = span / intervals
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude * (1 + 1e-9))


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 0
    step = _nice_step(value)
    return math.ceil(value / step - 1e-9) * step


def _ticks(top: float) -> list[float]:
    step = _nice_step(top)
    return [round(i * step, 10) for i in range(int(top / step + 1e-9) + 1)]


def _y_axis(plot: _Plot, ticks: Sequence[float], texts: Sequence[str]) -> list[Element]:
    """A gridline and label at each tick; the zero line in black."""
    shapes: list[Element] = []
    for tick, text in zip(ticks, texts, strict=True):
        y = plot.y(tick)
        shapes.append(Line(x1=_r(plot.left), y1=y, x2=_r(plot.right), y2=y, stroke=BLACK if tick == 0 else MID_GREY))
        shapes.append(Text(x=_r(plot.left - 6), y=_r(y + 5), text=text, size=SMALL_FONT_SIZE, anchor="end"))
    return shapes


def _under_plot(
    plot: _Plot, x_labels: Sequence[str], grid: Sequence[Sequence[Point | None]], n_rows: Sequence[str | None]
) -> tuple[list[Element], float]:
    """The x labels (on two lines when too wide), then a row of n for each series that has them.

    When even that does not fit, only every k-th column is labelled; the table has them all.
    """
    label_lines = [_split(label, plot.step) for label in x_labels]
    n_texts = [[None if p is None or p.n is None else format_number(p.n) for p in points] for points in grid]
    every = _thinning(
        plot.step, [line for lines in label_lines for line in lines] + [t for row in n_texts for t in row if t]
    )
    shapes: list[Element] = []

    def row_of(texts: Sequence[str | None], y: float, fill: str = BLACK) -> None:
        for i, text in enumerate(texts):
            if text and i % every == 0:
                shapes.append(Text(x=plot.x(i), y=_r(y), text=text, size=SMALL_FONT_SIZE, fill=fill, anchor="middle"))

    lines_used = max(len(lines) for lines in label_lines)
    for j in range(lines_used):
        row_of([lines[j] if j < len(lines) else None for lines in label_lines], plot.bottom + (j + 1) * LINE_GAP)
    y = plot.bottom + lines_used * LINE_GAP + 6
    for texts, heading in zip(n_texts, n_rows, strict=True):
        if heading:
            y += LINE_GAP
            shapes.append(Text(x=0, y=_r(y), text=heading, size=SMALL_FONT_SIZE, fill=DARK_GREY))
            row_of(texts, y, DARK_GREY)
    return shapes, y - plot.bottom


def _split(label: str, room: float) -> list[str]:
    """A label too wide for its column goes on two lines, broken at its last space ("Jan" / "2025")."""
    if text_width(label, SMALL_FONT_SIZE) <= room - 4 or " " not in label:
        return [label]
    return label.rsplit(" ", 1)


def _thinning(step: float, texts: Sequence[str]) -> int:
    """Label every k-th column so that the widest text fits."""
    widest = max((text_width(text, SMALL_FONT_SIZE) for text in texts), default=0) + 6
    return max(1, math.ceil(widest / step))


def _runs(flags: Sequence[bool]) -> list[list[int]]:
    """The indexes of each unbroken run of True."""
    runs: list[list[int]] = []
    for key, group in itertools.groupby(enumerate(flags), key=lambda item: item[1]):
        if key:
            runs.append([i for i, _ in group])
    return runs


def _series_shapes(
    label: str,
    points: Sequence[Point | None],
    colour: str,
    plot: _Plot,
    interval: str,
    fmt: NumberFormat,
    n_heading: str,
) -> list[Element]:
    """Interval bands underneath, then the line in pieces between gaps, whiskers, and a marker per point."""
    shapes: list[Element] = []
    has_value = [p is not None and p.value is not None for p in points]
    has_interval = [ok and p.low is not None and p.high is not None for ok, p in zip(has_value, points, strict=True)]
    bands = [run for run in _runs(has_interval) if len(run) > 1] if interval == "band" else []
    for run in bands:
        upper = [f"{_num(plot.x(i))} {_num(plot.y(points[i].high))}" for i in run]
        lower = [f"{_num(plot.x(i))} {_num(plot.y(points[i].low))}" for i in reversed(run)]
        shapes.append(Path(d="M " + " L ".join(upper + lower) + " Z", fill=colour, fill_opacity=BAND_OPACITY))
    pieces = [run for run in _runs(has_value) if len(run) > 1]
    if pieces:
        d = " ".join(
            "M " + " L ".join(f"{_num(plot.x(i))} {_num(plot.y(points[i].value))}" for i in run) for run in pieces
        )
        shapes.append(Path(d=d, stroke=colour, stroke_width=3))
    banded = {i for run in bands for i in run}
    for i, point in enumerate(points):
        if point is None or point.value is None:
            continue
        if has_interval[i] and i not in banded:
            shapes += _whisker(plot.y(point.low), plot.y(point.high), plot.x(i), 5, vertical=True, stroke=colour)
        tooltip = f"{label}, {point.x_label}: {fmt.interval(point.value, point.low, point.high)}"
        if point.n is not None:
            tooltip += f"; {n_heading.lower()} {format_number(point.n)}"
        shapes.append(Circle(cx=plot.x(i), cy=plot.y(point.value), r=5, fill=colour, title=tooltip))
    return shapes
