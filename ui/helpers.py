"""Template helpers. Document content is never marked safe as it comes: it is rebuilt from escaped parts."""

from __future__ import annotations

import html
import re

from markupsafe import Markup, escape

from ui import i18n

_MARK = re.compile(r"(</?mark>)")


def highlight(fragment: str) -> Markup:
    """A search highlight with only its <mark> tags kept as HTML.

    The engine's html encoder already escaped the text; we undo that and escape it again ourselves, so
    the page's safety never depends on another program's escaping.
    """
    parts = []
    depth = 0
    for piece in _MARK.split(fragment):
        if piece == "<mark>":
            depth += 1
            parts.append(Markup("<mark>"))
        elif piece == "</mark>":
            if depth:
                depth -= 1
                parts.append(Markup("</mark>"))
        else:
            parts.append(escape(html.unescape(piece)))
    parts.extend(Markup("</mark>") for _ in range(depth))
    return Markup("").join(parts)


def install(env: object) -> None:
    env.filters["highlight"] = highlight  # type: ignore[attr-defined]
    env.filters["number"] = i18n.format_number  # type: ignore[attr-defined]
    env.filters["day"] = i18n.format_day  # type: ignore[attr-defined]
    env.filters["kind_label"] = i18n.kind_label  # type: ignore[attr-defined]
    env.filters["register_label"] = i18n.register_label  # type: ignore[attr-defined]
    env.filters["identifier_label"] = i18n.identifier_label  # type: ignore[attr-defined]
    env.filters["detail_label"] = i18n.detail_label  # type: ignore[attr-defined]
    env.filters["language_label"] = i18n.language_label  # type: ignore[attr-defined]
    # The request's language is read at render time, from the context the middleware set.
    env.globals.update(  # type: ignore[attr-defined]
        _=i18n.gettext,
        gettext=i18n.gettext,
        ngettext=i18n.ngettext,
        current_language=i18n.current_language,
        languages=i18n.LANGUAGES,
    )
