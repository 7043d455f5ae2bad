"""app.reports.charts: chart geometry, the table under each chart, and the partial that draws them."""

from __future__ import annotations

from html.parser import HTMLParser
from itertools import pairwise

import pytest

from app.config import Settings
from app.reports.charts import (
    BLACK,
    BLUE,
    GREEN,
    ORANGE,
    RED,
    WHITE,
    WIDTH,
    YELLOW,
    Bar,
    Chart,
    Circle,
    Line,
    Link,
    Path,
    Point,
    Rect,
    Segment,
    Series,
    StackRow,
    Text,
    bar_chart,
    format_interval,
    format_number,
    format_percent,
    line_chart,
    stacked_bar_chart,
    text_colour_on,
    text_width,
)
from app.web.templating import make_templates

GRADES = [
    ("outstanding", "Outstanding", GREEN),
    ("good", "Good", BLUE),
    ("ri", "Requires improvement", ORANGE),
    ("inadequate", "Inadequate", RED),
]


def shapes(chart: Chart, kind: type) -> list:
    """Every shape of a kind, links opened up, in drawing order."""
    found = []
    for element in chart.elements:
        for shape in element.children if isinstance(element, Link) else (element,):
            if isinstance(shape, kind):
                found.append(shape)
    return found


def texts(chart: Chart) -> list[str]:
    return [text.text for text in shapes(chart, Text)]


def table_text(chart: Chart) -> list[list[str]]:
    return [[cell.text for cell in row] for row in chart.table.rows]


# ---------------------------------------------------------------------------
# Numbers as text


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [(0.72, "72%"), (0.285, "29%"), (0.004, "0%"), (1, "100%"), (0, "0%"), (0.999, "100%")],
)
def test_percents_are_whole_with_halves_rounded_up(fraction, expected):
    assert format_percent(fraction) == expected


def test_numbers_and_intervals_read_as_people_write_them():
    assert format_number(1234) == "1,234"
    assert format_number(12.5, " days") == "12.5 days"
    assert format_number(3.0) == "3"
    assert format_interval(0.72, 0.61, 0.81, percent=True) == "72% (61%\u201381%)"
    assert format_interval(0.72, None, 0.81, percent=True) == "72%", "half an interval is no interval"
    assert format_interval(None, 0.1, 0.2, percent=True) == "No data"


def test_text_on_a_fill_is_whichever_of_black_or_white_contrasts_more():
    assert text_colour_on(BLUE) == WHITE
    assert text_colour_on(RED) == WHITE
    assert text_colour_on(YELLOW) == BLACK
    assert text_colour_on(ORANGE) == BLACK


# ---------------------------------------------------------------------------
# Bars


def test_bars_scale_to_the_largest_value_and_leave_room_for_their_labels():
    chart = bar_chart("Audits", "Audits by team", [Bar("North", 40), Bar("South", 10), Bar("East", 0)])
    north, south, east = shapes(chart, Rect)
    assert south.width == pytest.approx(north.width / 4, abs=0.01)
    assert east.width == 0
    label = next(text for text in shapes(chart, Text) if text.text == "40")
    assert label.x > north.width
    assert label.x + text_width("40") <= WIDTH, "the value at the end of the longest bar stays inside the chart"


def test_bars_scale_to_max_value_and_stop_at_its_edge():
    chart = bar_chart("Days", "Days", [Bar("A", 5), Bar("B", 10), Bar("C", 30)], max_value=20, unit=" days")
    a, b, c = shapes(chart, Rect)
    assert b.width == pytest.approx(2 * a.width, abs=0.01)
    assert c.width == pytest.approx(2 * b.width, abs=0.01), "a value past the maximum is drawn at the maximum"
    assert "30 days" in texts(chart)


def test_percent_bars_scale_to_100_percent_not_to_the_largest_value():
    chart = bar_chart("Rates", "Rates", [Bar("All", 1.0), Bar("Half", 0.5), Bar("Tiny", 0.001)], percent=True)
    full, half, tiny = shapes(chart, Rect)
    assert half.width == pytest.approx(full.width / 2, abs=0.01)
    assert 0 < tiny.width <= 2, "a small share is a sliver, not nothing"
    assert texts(chart)[-1] == "0%"


def test_whiskers_run_from_low_to_high_across_the_bar():
    chart = bar_chart("Rates", "Rates", [Bar("All", 1.0), Bar("North", 0.5, low=0.25, high=0.75)], percent=True)
    full = shapes(chart, Rect)[0].width
    across, low_cap, high_cap = shapes(chart, Line)
    assert (across.x1, across.x2) == (pytest.approx(full / 4, abs=0.01), pytest.approx(full * 3 / 4, abs=0.01))
    bar = shapes(chart, Rect)[1]
    assert across.y1 == across.y2 == bar.y + bar.height / 2
    assert low_cap.x1 == low_cap.x2 == across.x1 and high_cap.x1 == high_cap.x2 == across.x2
    assert low_cap.y1 < bar.y + bar.height / 2 < low_cap.y2
    value = next(text for text in shapes(chart, Text) if text.text == "50%")
    assert value.x > across.x2, "the value is written past the whisker, not over it"


def test_a_bar_without_a_value_says_so_and_draws_nothing():
    chart = bar_chart("Rates", "Rates", [Bar("North", 0.5), Bar("East", None)], percent=True)
    assert len(shapes(chart, Rect)) == 1
    assert "No data" in texts(chart)
    assert table_text(chart) == [["North", "50%"], ["East", "No data"]]


def test_bar_table_has_the_same_numbers_with_intervals_links_and_notes():
    chart = bar_chart(
        "Visits on time",
        "Share of visits on time by team",
        [
            Bar("North", 0.72, href="/reports/teams/1", low=0.61, high=0.81),
            Bar("South", 0.5, note="fewer than 10 audits"),
        ],
        percent=True,
        label_heading="Team",
        value_heading="Visits on time",
    )
    assert [cell.text for cell in chart.table.head] == ["Team", "Visits on time", "Note"]
    assert table_text(chart) == [["North", "72% (61%\u201381%)", ""], ["South", "50%", "fewer than 10 audits"]]
    assert chart.table.rows[0][0].href == "/reports/teams/1"
    assert chart.table.rows[0][1].numeric
    assert "South (fewer than 10 audits)" in texts(chart)


def test_a_bar_with_href_is_one_link_named_by_its_label_and_value():
    chart = bar_chart(
        "Rates", "Rates", [Bar("North", 0.72, href="/n", low=0.61, high=0.81), Bar("South", 0.5)], percent=True
    )
    links = [element for element in chart.elements if isinstance(element, Link)]
    assert [(link.href, link.label) for link in links] == [("/n", "North: 72% (61%\u201381%)")]
    assert {type(child) for child in links[0].children} == {Text, Rect, Line}
    assert chart.has_links and chart.role == "group"
    assert not bar_chart("Rates", "Rates", [Bar("South", 0.5)], percent=True).has_links


def test_no_bars_or_no_values_make_an_empty_chart():
    assert bar_chart("Rates", "Rates", []).empty
    assert bar_chart("Rates", "Rates", [Bar("North", None)]).empty
    assert not bar_chart("Rates", "Rates", [Bar("North", 0)]).empty


def test_ids_are_slugs_made_unique_unless_given():
    first, second = (bar_chart("Visits on time, by team!", "d", [Bar("A", 1)]) for _ in range(2))
    assert first.id.startswith("chart-visits-on-time-by-team-")
    assert first.id != second.id
    assert bar_chart("T", "d", [Bar("A", 1)], id="grades").id == "grades"


# ---------------------------------------------------------------------------
# 100% stacked bars


def test_stacked_segments_follow_the_keys_and_fill_the_full_width():
    rows = [
        StackRow("April", [Segment("inadequate", 1), Segment("good", 12), Segment("outstanding", 3), Segment("ri", 7)]),
        StackRow("May", [Segment("good", 1), Segment("ri", 2)]),
    ]
    chart = stacked_bar_chart("Grades", "Grade mix by month", rows, GRADES)
    for row in rows:
        segments = [rect for rect in shapes(chart, Rect) if rect.title and rect.title.startswith(row.label)]
        assert segments[0].x == 0
        for left, right in pairwise(segments):
            assert right.x == pytest.approx(left.x + left.width, abs=0.02), "segments touch"
        assert sum(rect.width for rect in segments) == pytest.approx(WIDTH, abs=0.05)
    april = [rect for rect in shapes(chart, Rect) if rect.title and rect.title.startswith("April")]
    assert [rect.fill for rect in april] == [GREEN, BLUE, ORANGE, RED]
    assert april[1].width == pytest.approx(WIDTH * 12 / 23, abs=0.02)
    assert april[1].title == "April, Good: 12 of 23 (52%)"
    may = [rect for rect in shapes(chart, Rect) if rect.title and rect.title.startswith("May")]
    assert [rect.fill for rect in may] == [BLUE, ORANGE], "a key with no count draws no segment"


def test_stacked_chart_has_a_legend_and_writes_shares_that_fit_inside_segments():
    chart = stacked_bar_chart("Grades", "Grades", [StackRow("April", [Segment("good", 99), Segment("ri", 1)])], GRADES)
    legend = [rect for rect in shapes(chart, Rect) if rect.title is None]
    assert [rect.fill for rect in legend] == [GREEN, BLUE, ORANGE, RED]
    assert {"Outstanding", "Good", "Requires improvement", "Inadequate"} <= set(texts(chart))
    inside = [text for text in shapes(chart, Text) if text.anchor == "middle"]
    assert [(text.text, text.fill) for text in inside] == [("99%", WHITE)], "1% has no room in its sliver"


def test_stacked_table_gives_counts_shares_and_totals():
    chart = stacked_bar_chart(
        "Grades",
        "Grades",
        [StackRow("April", [Segment("good", 3), Segment("ri", 1)], href="/april"), StackRow("May", [])],
        GRADES,
        label_heading="Month",
    )
    assert [cell.text for cell in chart.table.head] == [
        "Month",
        "Outstanding",
        "Good",
        "Requires improvement",
        "Inadequate",
        "Total",
    ]
    assert table_text(chart) == [
        ["April", "0 (0%)", "3 (75%)", "1 (25%)", "0 (0%)", "4"],
        ["May", "0", "0", "0", "0", "0"],
    ]
    assert chart.table.rows[0][0].href == "/april"
    link = next(element for element in chart.elements if isinstance(element, Link))
    assert link.label == "April: Outstanding 0 (0%); Good 3 (75%); Requires improvement 1 (25%); Inadequate 0 (0%)"
    assert "No data" in texts(chart), "a month with no audits says so"


def test_stacked_chart_with_no_counts_is_empty_and_unknown_keys_are_refused():
    assert stacked_bar_chart("Grades", "Grades", [StackRow("April", [Segment("good", 0)])], GRADES).empty
    assert stacked_bar_chart("Grades", "Grades", [], GRADES).empty
    with pytest.raises(ValueError, match="superb"):
        stacked_bar_chart("Grades", "Grades", [StackRow("April", [Segment("superb", 1)])], GRADES)


# ---------------------------------------------------------------------------
# Lines


def months(values, n=None, low=None, high=None):
    labels = ["Apr 2025", "May 2025", "Jun 2025", "Jul 2025", "Aug 2025", "Sep 2025"]
    return [
        Point(label, value, low=(low or {}).get(i), high=(high or {}).get(i), n=(n or {}).get(i))
        for i, (label, value) in enumerate(zip(labels, values, strict=False))
    ]


def test_line_breaks_where_a_value_is_missing():
    chart = line_chart("Trend", "Trend", [Series("All", months([0.5, 0.6, None, 0.7, 0.8, None]))])
    (line,) = [path for path in shapes(chart, Path) if path.stroke]
    assert line.d.count("M") == 2 and line.d.count("L") == 2, "two pieces of two points each"
    assert len(shapes(chart, Circle)) == 4


def test_a_point_between_two_gaps_is_a_marker_without_a_line():
    chart = line_chart("Trend", "Trend", [Series("All", months([0.5, None, 0.6, None]))])
    assert not [path for path in shapes(chart, Path) if path.stroke]
    assert len(shapes(chart, Circle)) == 2


def test_points_sit_at_their_values_on_the_y_scale():
    chart = line_chart("Trend", "Trend", [Series("All", months([0, 0.5, 1.0]))])
    zero, half, full = shapes(chart, Circle)
    assert zero.cx < half.cx < full.cx
    assert half.cy == pytest.approx((zero.cy + full.cy) / 2, abs=0.01)
    gridlines = {line.y1: line.stroke for line in shapes(chart, Line)}
    assert gridlines[zero.cy] == BLACK and full.cy in gridlines, "0% is the axis, 100% the top gridline"
    assert {"0%", "20%", "100%"} <= set(texts(chart))


def test_intervals_are_a_band_between_neighbours_and_a_whisker_on_their_own():
    low = {0: 0.4, 1: 0.5, 3: 0.6}
    high = {0: 0.6, 1: 0.7, 3: 0.8}
    chart = line_chart("Trend", "Trend", [Series("All", months([0.5, 0.6, None, 0.7], low=low, high=high))])
    (band,) = [path for path in shapes(chart, Path) if path.fill_opacity]
    assert band.d.startswith("M ") and band.d.endswith(" Z") and band.d.count("L") == 3, "four corners"
    points = shapes(chart, Circle)
    whisker = [line for line in shapes(chart, Line) if line.x1 == line.x2 == points[2].cx]
    assert len(whisker) == 1 and whisker[0].y1 > points[2].cy > whisker[0].y2, "from low (below) to high (above)"

    as_whiskers = line_chart(
        "Trend", "Trend", [Series("All", months([0.5, 0.6], low=low, high=high))], interval="whiskers"
    )
    assert not [path for path in shapes(as_whiskers, Path) if path.fill_opacity]
    assert len([line for line in shapes(as_whiskers, Line) if line.x1 == line.x2]) == 2


def test_n_is_written_under_each_point_and_in_the_table():
    series = Series("All", months([0.5, None, 0.75], n={0: 12, 1: 0, 2: 1200}, low={2: 0.6}, high={2: 0.85}))
    chart = line_chart("Trend", "Trend", [series], n_heading="Audits")
    circles = shapes(chart, Circle)
    under = {text.text: text for text in shapes(chart, Text)}
    assert under["12"].x == circles[0].cx and under["1,200"].x == circles[1].cx
    assert under["12"].y > max(line.y1 for line in shapes(chart, Line)), "under the plot"
    assert "Audits" in under
    assert [cell.text for cell in chart.table.head] == ["Month", "All", "Audits"]
    assert table_text(chart) == [
        ["Apr 2025", "50%", "12"],
        ["May 2025", "No data", "0"],
        ["Jun 2025", "75% (60%\u201385%)", "1,200"],
    ]
    assert circles[1].title == "All, Jun 2025: 75% (60%\u201385%); audits 1,200"


def test_several_series_share_the_months_and_get_a_legend():
    north = Series("North", months([0.5, 0.6, 0.7], n={0: 1, 1: 2, 2: 3}))
    south = Series("South", [Point("Apr 2025", 0.4), Point("Jun 2025", 0.2), Point("Jul 2025", 0.3)])
    chart = line_chart("Trend", "Trend", [north, south])
    assert [cell.text for cell in chart.table.head] == ["Month", "North", "Number (North)", "South"]
    assert table_text(chart) == [
        ["Apr 2025", "50%", "1", "40%"],
        ["May 2025", "60%", "2", "No data"],
        ["Jun 2025", "70%", "3", "20%"],
        ["Jul 2025", "No data", "", "30%"],
    ]
    lines = [path for path in shapes(chart, Path) if path.stroke]
    assert [(path.stroke, path.d.count("L")) for path in lines] == [(BLUE, 2), (ORANGE, 1)], "South skips May"
    assert {"North", "South"} <= set(texts(chart))
    legend = [rect.fill for rect in shapes(chart, Rect)]
    assert legend == [BLUE, ORANGE]


def test_counts_scale_to_a_round_number_above_the_largest():
    chart = line_chart(
        "Audits", "Audits", [Series("Audits", [Point("Q1", 13), Point("Q2", 47)])], y_max=None, percent=False
    )
    assert {"0", "10", "50"} <= set(texts(chart))
    assert "60" not in texts(chart)
    assert table_text(chart) == [["Q1", "13"], ["Q2", "47"]]


def test_a_line_chart_without_values_is_empty():
    assert line_chart("Trend", "Trend", []).empty
    assert line_chart("Trend", "Trend", [Series("All", months([None, None], n={0: 0}))]).empty


# ---------------------------------------------------------------------------
# The partial


class Parsed(HTMLParser):
    """Start tags with their attributes, and the text inside each element that has an id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text_by_id: dict[str, str] = {}
        self._open: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        self._open.append(attributes.get("id"))
        if attributes.get("id"):
            self.text_by_id[attributes["id"]] = ""

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in self._open:
            if element_id:
                self.text_by_id[element_id] += data

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attributes for name, attributes in self.tags if name == tag]


@pytest.fixture(scope="module")
def render():
    env = make_templates(Settings(environment="test", database_url="sqlite://", secret_key="test")).env
    page = env.from_string('{% with chart = c %}{% include "reports/_chart.html" %}{% endwith %}')
    return lambda chart: page.render(c=chart)


def assert_no_inline_style(html: str, parsed: Parsed) -> None:
    assert not [tag for tag, attributes in parsed.tags if "style" in attributes]
    assert "<style" not in html


def test_a_chart_renders_as_a_labelled_svg_image_with_its_table(render):
    chart = bar_chart("Visits on time", "Share of visits on time by team", [Bar("North", 0.72)], percent=True)
    html = render(chart)
    parsed = Parsed(html)
    (svg,) = parsed.all("svg")
    assert svg["role"] == "img"
    assert svg["viewbox"] == chart.view_box
    labelled_by = svg["aria-labelledby"].split()
    assert [parsed.text_by_id[i].strip() for i in labelled_by] == ["Visits on time", "Share of visits on time by team"]
    assert [t for t, a in parsed.tags if a.get("id") in labelled_by] == ["title", "desc"]
    assert "<rect" in html and 'fill="#1d70b8"' in html
    assert "Table of the data: Visits on time" in html
    (caption,) = parsed.all("caption")
    assert parsed.text_by_id[caption["id"]].strip() == "Visits on time"
    (scroller,) = [div for div in parsed.all("div") if div.get("role") == "region"]
    assert scroller["aria-labelledby"] == caption["id"], "the scrolling region is named by the caption"
    assert "72%" in html and "No data for this selection." not in html
    assert_no_inline_style(html, parsed)


def test_linked_bars_are_focusable_named_links_in_the_svg_and_the_table(render):
    chart = bar_chart(
        "Rates",
        "Rates",
        [Bar("North & East", 0.72, href="/reports/teams/1?month=2025-04&x=1"), Bar("South", 0.4)],
        percent=True,
    )
    html = render(chart)
    parsed = Parsed(html)
    assert parsed.all("svg")[0]["role"] == "group", "an image's children are hidden, links included"
    links = [a for a in parsed.all("a") if a.get("href") == "/reports/teams/1?month=2025-04&x=1"]
    in_svg, in_table = links
    assert in_svg["aria-label"] == "North & East: 72%"
    assert in_table["class"] == "govuk-link"
    assert "&amp;x=1" in html, "the href is escaped"
    assert_no_inline_style(html, parsed)


def test_every_kind_of_chart_renders_without_inline_styles_and_ids_resolve(render):
    charts = [
        stacked_bar_chart("Grades", "Grades", [StackRow("April", [Segment("good", 3)], href="/a")], GRADES),
        line_chart(
            "Trend", "Trend", [Series("All", months([0.5, 0.6], n={0: 3}, low={0: 0.4, 1: 0.5}, high={0: 0.6, 1: 0.7}))]
        ),
    ]
    for chart, drawn in zip(charts, ["rect", "circle"], strict=False):
        html = render(chart)
        parsed = Parsed(html)
        for element_id in parsed.all("svg")[0]["aria-labelledby"].split():
            assert element_id in parsed.text_by_id
        assert parsed.all(drawn)
        assert_no_inline_style(html, parsed)


def test_labels_are_escaped(render):
    html = render(bar_chart("<b>Rates</b>", "d", [Bar("<script>x</script>", 0.5)], percent=True))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html


def test_an_empty_chart_says_there_is_no_data_instead_of_drawing(render):
    html = render(bar_chart("Visits on time", "Share of visits on time by team", []))
    assert "No data for this selection." in html
    assert "Visits on time" in html
    assert "<svg" not in html and "<table" not in html
