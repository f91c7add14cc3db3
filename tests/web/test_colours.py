"""Every coloured button and badge on our pages is readable: its text meets WCAG AA contrast (4.5:1)
on its background."""
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "bot" / "static"
SHEETS = ("style.css", "candidate.css", "chat.css")
AA = 4.5  # WCAG 2.x, normal-size text


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of #rgb or #rrggbb."""
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rules() -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) of every rule in our style sheets, @media blocks included."""
    found = []
    for sheet in SHEETS:
        css = re.sub(r"/\*.*?\*/", "", (STATIC / sheet).read_text(), flags=re.S)
        for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
            decls = dict((k.strip(), v.strip()) for k, _, v in
                         (d.partition(":") for d in body.split(";") if ":" in d))
            found += [(s.strip(), decls) for s in selectors.split(",")]
    return found


def _variables(rules) -> dict[str, str]:
    return {k: v for _, decls in rules for k, v in decls.items() if k.startswith("--")}


def _hex(value: str | None, variables: dict[str, str]) -> str | None:
    """The #hex a colour value resolves to through var(--…), or None for none, inherit and the like."""
    # var(--x, fallback): the fallback when our sheets do not set --x (--brand comes from /brand.css, its contrast
    # with white checked when the settings load; the fallback is what a page shows before it arrives).
    while value and (m := re.fullmatch(r"var\((--[\w-]+)(?:,\s*([^()]+))?\)", value)):
        value = variables.get(m.group(1), m.group(2) and m.group(2).strip())
    value = {"white": "#fff"}.get(value, value)
    return value if value and re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value) else None


def coloured_pairs() -> dict[str, tuple[str, str]]:
    """{selector: (text, background)} for every rule that sets a background behind text of a known colour.

    A :hover rule keeps the text colour of the rule it hovers (button:hover is still white on the darker green)."""
    rules = _rules()
    variables = _variables(rules)
    text_of = {sel: _hex(d.get("color"), variables) for sel, d in rules if _hex(d.get("color"), variables)}
    pairs = {}
    for sel, decls in rules:
        background = _hex(decls.get("background") or decls.get("background-color"), variables)
        text = _hex(decls.get("color"), variables) or text_of.get(sel.replace(":hover", ""))
        if background and text:
            pairs[sel] = (text, background)
    return pairs


def test_the_white_text_on_every_green_or_red_button_meets_wcag_aa_contrast():
    pairs = coloured_pairs()
    # The buttons and badges with white text, so the test cannot pass by finding none of them.
    # (The candidate page's chosen time is dark text on pale green now: its one white button is .cp-primary.)
    white = {"button", ".button", "button:hover", ".button:hover", ".quick-reply.chosen",
             ".cp-primary", ".cp-primary:hover", ".cp-danger", ".cp-danger:hover", ".chat-head"}
    assert white <= {sel for sel, (text, _) in pairs.items() if luminance(text) == 1.0}, sorted(pairs)
    poor = {sel: round(contrast(*pair), 2) for sel, pair in pairs.items() if contrast(*pair) < AA}
    assert not poor, f"text below {AA}:1 on its background: {poor}"


@pytest.mark.parametrize("colour, ratio", [("#06c755", 2.26), ("#fff", 1.0), ("#000", 21.0)])
def test_the_contrast_function_gives_wcag_s_own_ratios(colour, ratio):
    assert contrast(colour, "#ffffff") == pytest.approx(ratio, abs=0.01)
