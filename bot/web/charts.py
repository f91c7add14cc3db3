"""Charts drawn on the server as SVG: no script, readable by a screen reader (title, desc, every figure as text),
and the same on a 390 px phone as at 1280 px because labels sit above their bars instead of beside them."""
from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 360  # the viewBox: about one phone's width, so text is drawn near its real size there


def bars(items: list[tuple[str, float, str]], title: str, desc: str, ident: str) -> Markup:
    """Horizontal bars: (label, value, the figure written at the bar's end) each; the longest bar fills the width."""
    top = max((v for _, v, _ in items), default=0) or 1
    row, out = 40, []
    for n, (label, value, figure) in enumerate(items):
        y = n * row
        width = max(2.0, (WIDTH - 4) * value / top) if value else 0
        inside = width > WIDTH * 0.55  # a long bar carries its figure inside, in white; a short one after it
        at = f'x="{width - 4:.1f}" text-anchor="end" class="figure inside"' if inside else \
            f'x="{width + 4:.1f}" class="figure"'
        out.append(f'<g class="bar" role="listitem"><text x="0" y="{y + 13}" class="label">{escape(label)}</text>'
                   f'<rect x="0" y="{y + 17}" width="{width:.1f}" height="18" rx="2"/>'
                   f'<text {at} y="{y + 30}">{escape(figure)}</text></g>')
    height = max(row, len(items) * row)
    return Markup(f'<svg class="chart" id="{ident}" viewBox="0 0 {WIDTH} {height}" role="img" '
                  f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg">'
                  f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
                  f'<g role="list">{"".join(out)}</g></svg>')
