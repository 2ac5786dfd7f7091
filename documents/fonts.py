"""The fonts of the printed documents (B/L, train manifests): Helvetica for Latin text, and for Chinese names and
addresses a CJK font embedded in the PDF, so it reads the same on a machine without Chinese fonts. The font is
Debian's WenQuanYi Zen Hei (`fonts-wqy-zenhei`, installed by the Dockerfile and `.ci/run`), or the file named by
`PDF_CJK_FONT_FILE`; where neither is installed, reportlab's STSong-Light, which PDF readers supply themselves
(not embedded: a reader without Asian fonts shows boxes, so a deployment installs the package)."""

import logging
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)
CJK_FALLBACK = "STSong-Light"
EMBEDDED = "WenQuanYiZenHei"
_registered: str | None = None


def cjk_font() -> str:
    """Register (once) and name the font Chinese text is written in."""
    global _registered
    if _registered is not None:
        return _registered
    from reportlab.pdfbase import pdfmetrics

    path = Path(settings.PDF_CJK_FONT_FILE)
    if path.is_file():
        from reportlab.pdfbase.ttfonts import TTFont

        pdfmetrics.registerFont(TTFont(EMBEDDED, str(path), subfontIndex=0))
        _registered = EMBEDDED
    else:
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        logger.warning("No CJK font at %s: Chinese text in PDFs uses %s, not embedded", path, CJK_FALLBACK)
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FALLBACK))
        _registered = CJK_FALLBACK
    return _registered


def font_for(text: str, *, bold: bool = False) -> str:
    """Helvetica where it can write the text, else the CJK font."""
    if all(ord(character) < 256 for character in text):
        return "Helvetica-Bold" if bold else "Helvetica"
    return cjk_font()
