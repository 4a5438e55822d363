"""What a browser shows of a page: its visible text (no scripts, styles, templates or attribute values), and any
template syntax in it."""

import json
from html.parser import HTMLParser

TEMPLATE_SYNTAX = ("{#", "#}", "{%", "%}", "{{", "}}")


class VisibleText(HTMLParser):
    """The text a browser would show: character data outside <script>, <style> and <template>."""

    HIDDEN = {"script", "style", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden and not is_json(data):
            self.chunks.append(data)


def is_json(text: str) -> bool:
    """A JSON value the admin shows as data (a task's arguments: {"kwargs": {}}), which no leaked template is."""
    text = text.strip()
    if not text.startswith(("{", "[")):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return "".join(parser.chunks)


def template_syntax_in(html: str) -> list[str]:
    text = visible_text(html)
    found = []
    for mark in TEMPLATE_SYNTAX:
        at = text.find(mark)
        if at >= 0:
            found.append(f"{mark!r} in …{text[max(0, at - 60) : at + 60]!r}…")
    return found
