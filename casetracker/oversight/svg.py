"""A small server-side SVG chart builder: bar charts (vertical and horizontal) and stacked
bars. Output is plain SVG markup (no script, no external references, no event attributes),
escaped, with a <title> and role="img" + aria-labelledby, so the same markup works inline in
pages under the CSP and inside the PDF. Every chart is shown next to a table of its figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

PALETTE = ["#1f5fa8", "#c2571a", "#2e7d32", "#7b1fa2", "#b71c1c", "#00838f", "#5d4037",
           "#455a64", "#9e9d24", "#ad1457"]
FONT = "font-family=\"CT Sans, Liberation Sans, Arial, sans-serif\""
_ids = iter(range(1, 10**9))


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= value:
            return top
    return value


def _wrap(title: str, width: int, height: int, body: list[str], desc: str = "") -> Markup:
    ident = f"chart-{next(_ids)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-labelledby="{ident}-t" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" {FONT} font-size="11">',
        f'<title id="{ident}-t">{escape(title)}</title>',
    ]
    if desc:
        parts.append(f"<desc>{escape(desc)}</desc>")
    parts.extend(body)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float], *,
              width: int = 640, height: int = 220, color: str = PALETTE[0],
              value_suffix: str = "", max_value: float | None = None) -> Markup:
    """Vertical bars (e.g. complaints per month); labels thinned when crowded."""
    margin_left, margin_bottom, margin_top = 44, 36, 12
    plot_w = width - margin_left - 8
    plot_h = height - margin_bottom - margin_top
    top = max_value if max_value is not None else _nice_max(max(values, default=0))
    n = max(1, len(values))
    slot = plot_w / n
    bar_w = max(1.0, slot * 0.75)
    body = []
    for i in range(5):
        y = margin_top + plot_h - plot_h * i / 4
        body.append(f'<line x1="{margin_left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" '
                    'stroke="#ddd" stroke-width="1"/>')
        body.append(f'<text x="{margin_left - 4}" y="{y + 4:.1f}" text-anchor="end" '
                    f'fill="#444">{escape(_fmt(top * i / 4))}{escape(value_suffix)}</text>')
    every = max(1, int(len(labels) / (plot_w / 46)) + 1)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = 0 if top == 0 else plot_h * float(value) / top
        x = margin_left + i * slot + (slot - bar_w) / 2
        y = margin_top + plot_h - h
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{color}"><title>{escape(str(label))}: '
                    f'{escape(_fmt(float(value)))}{escape(value_suffix)}</title></rect>')
        if i % every == 0:
            body.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - margin_bottom + 14}" '
                        f'text-anchor="middle" fill="#333">{escape(str(label))}</text>')
    body.append(f'<line x1="{margin_left}" y1="{margin_top + plot_h}" x2="{width - 8}" '
                f'y2="{margin_top + plot_h}" stroke="#333" stroke-width="1"/>')
    return _wrap(title, width, height, body)


def hbar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], *,
               width: int = 640, color: str = PALETTE[0], value_suffix: str = "",
               max_value: float | None = None, empty_text: str = "no data") -> Markup:
    """Horizontal bars with the value printed at the end (e.g. timeliness percentages);
    a None value prints ``empty_text`` and no bar."""
    row_h = 22
    label_w = 290
    height = 10 + row_h * max(1, len(values)) + 6
    plot_w = width - label_w - 60
    top = max_value if max_value is not None else _nice_max(
        max((v for v in values if v is not None), default=0))
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 8 + i * row_h
        w = 0 if top == 0 or value is None else plot_w * float(value) / top
        body.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" fill="#222">'
                    f'{escape(str(label))}</text>')
        body.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 7}" '
                    f'fill="{color}"/>')
        shown = empty_text if value is None else f"{_fmt(float(value))}{value_suffix}"
        body.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" fill="#222">'
                    f'{escape(shown)}</text>')
    return _wrap(title, width, height, body)


def stacked_bars(title: str, labels: Sequence[str], series: Sequence[str],
                 matrix: Sequence[Sequence[float]], *, width: int = 640) -> Markup:
    """One horizontal 100% bar per label, split by series (e.g. findings per allegation
    type), with a legend."""
    row_h = 22
    label_w = 170
    per_row = 3
    legend_rows = (len(series) + per_row - 1) // per_row
    height = 8 + row_h * max(1, len(labels)) + 8 + legend_rows * 18
    plot_w = width - label_w - 16
    body = []
    for i, (label, row) in enumerate(zip(labels, matrix, strict=True)):
        y = 8 + i * row_h
        body.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" fill="#222">'
                    f'{escape(str(label))}</text>')
        row_total = sum(row) or 1
        x = float(label_w)
        for j, value in enumerate(row):
            w = plot_w * float(value) / row_total
            if w <= 0:
                continue
            body.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 7}" '
                        f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(str(label))} — '
                        f'{escape(series[j])}: {escape(_fmt(float(value)))}</title></rect>')
            x += w
    ly = 8 + row_h * max(1, len(labels)) + 8
    for j, name in enumerate(series):
        lx = 16 + (j % per_row) * ((width - 32) / per_row)
        yy = ly + (j // per_row) * 18
        body.append(f'<rect x="{lx:.1f}" y="{yy}" width="10" height="10" '
                    f'fill="{PALETTE[j % len(PALETTE)]}"/>')
        body.append(f'<text x="{lx + 14:.1f}" y="{yy + 9}" fill="#222">{escape(name)}</text>')
    return _wrap(title, width, height, body)
