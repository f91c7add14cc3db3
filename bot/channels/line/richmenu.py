"""The LINE rich menu: four buttons from the settings, and its image drawn with Pillow."""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.core.settings import Settings

WIDTH, HEIGHT = 2500, 843  # one of LINE's documented rich-menu sizes (the half-height one)
NAME = "sokuresu-main"     # lets `setup-richmenu` recognise, and replace, only its own menu
COLOURS = ("#2f7d5b", "#3b6ea8", "#c0673a", "#7a5aa6")
# CJK fonts that Debian, Ubuntu and macOS ship; without one the labels fall back to Pillow's own font.
FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
         "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
         "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
         "/System/Library/Fonts/ヒラギノ角ゴシック W6.ttc")


def buttons(settings: Settings) -> list[tuple[str, str, dict]]:
    """(Japanese label, English label, LINE action) for each of the four areas, left to right."""
    video = next((c for c in settings.content if c.kind == "video"), None)
    watch = ({"type": "uri", "label": "会社の動画", "uri": video.url} if video
             else {"type": "postback", "label": "会社の紹介", "data": "menu:content",
                   "displayText": "会社のことを知りたい"})
    return [
        ("面接を予約", "Book an interview", {"type": "postback", "label": "面接を予約", "data": "book",
                                             "displayText": "面接を予約したい"}),
        ("日程を変更", "Change my interview", {"type": "postback", "label": "日程を変更", "data": "reschedule",
                                              "displayText": "面接の日程を変えたい"}),
        ("会社の動画" if video else "会社の紹介", "Company video" if video else "About us", watch),
        ("担当者と話す", "Talk to a person", {"type": "postback", "label": "担当者と話す", "data": "menu:human",
                                           "displayText": "担当者と話したい"}),
    ]


def menu(settings: Settings) -> dict:
    """The rich-menu object LINE's API takes: size, chat-bar text and four tappable areas."""
    width = WIDTH // 4
    areas = [{"bounds": {"x": i * width, "y": 0, "width": width if i < 3 else WIDTH - 3 * width, "height": HEIGHT},
              "action": action} for i, (_, _, action) in enumerate(buttons(settings))]
    return {"size": {"width": WIDTH, "height": HEIGHT}, "selected": True, "name": NAME,
            "chatBarText": "メニュー / Menu", "areas": areas}


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def _fitted(draw: ImageDraw.ImageDraw, text: str, size: int, room: int):
    """The largest font up to `size` in which the text fits the panel."""
    font = _font(size)
    while size > 24 and draw.textlength(text, font=font) > room:
        size -= 4
        font = _font(size)
    return font


def image(settings: Settings) -> bytes:
    """A PNG of the four buttons: coloured panels, a Japanese label and its English below."""
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(canvas)
    width = WIDTH // 4
    for i, (ja, en, _) in enumerate(buttons(settings)):
        left = i * width
        draw.rounded_rectangle((left + 24, 24, left + width - 24, HEIGHT - 24), radius=48, fill=COLOURS[i])
        centre, room = left + width // 2, width - 110
        draw.text((centre, HEIGHT // 2 - 50), ja, font=_fitted(draw, ja, 104, room), fill="white", anchor="mm")
        draw.text((centre, HEIGHT // 2 + 90), en, font=_fitted(draw, en, 56, room), fill="#f3f3f3", anchor="mm")
    out = io.BytesIO()
    canvas.save(out, "PNG", optimize=True)
    return out.getvalue()
