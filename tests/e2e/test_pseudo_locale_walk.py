"""Every portal page in the pseudo-locale: no text that bypassed translation.

The walk signs in as demo customers, follows every same-origin link and GET form from the home page (a page
shape — its path with ids replaced — is visited twice at most) and renders each page with ``?lang=x-pseudo``,
where every translated string comes back wrapped in ``⟦…⟧``. What is left outside the marks must be data: words
that the demo seed or the settings' defaults wrote, e-mail addresses, numbers, dates and currency codes, and
elements marked ``translate="no"`` (card brands, control panel users, invoice lines as issued). A word outside that
is a string that bypassed translation, and fails the test with the page and the text it sits in.
"""

from __future__ import annotations

import ast
import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
import requests
from babel import Locale

from support.stack_client import DEMO_PASSWORD

PSEUDO = "x-pseudo"
CSRF = "w" * 43
MARKED = re.compile(r"⟦[^⟦⟧]*⟧")
WORD = re.compile(r"[^\W\d_]{2,}")
ID_IN_PATH = re.compile(r"/(?=[^/]*\d)[A-Za-z0-9_-]{6,}")
SKIPPED_PREFIXES = ("/static/", "/_dev/", "/api/", "/health")
VISITS_PER_SHAPE = 2
ROOT = Path(__file__).resolve().parents[2]
# Data the pages show as it was written: the demo seed, and the company settings' defaults (department names and
# descriptions in every language, the invoice number pattern), which staff configure rather than translate.
DATA_SOURCES = (
    *(ROOT / "infra" / "devstack" / "devstack").glob("seed*.py"),
    *(ROOT / "layers" / "core" / "balcao" / "services").glob("*settings.py"),
)
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"  # shown on the security page, marked translate="no"
ANONYMOUS_PAGES = ("/login", "/signup", "/signup/confirm", "/password/forgot", "/password/reset")


def seeded_words() -> set[str]:
    """Every word in a string literal of the data sources: the data the pages show as it was written."""
    words: set[str] = set()
    for source in DATA_SOURCES:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.update(word.lower() for word in WORD.findall(node.value))
    return words


def babel_words() -> set[str]:
    """What Babel prints from its own locale data (the pseudo-locale formats as English): month and weekday names,
    country names, currency codes."""
    locale = Locale.parse("en")
    words: set[str] = {"brl", "eur", "am", "pm", "utc"}
    for context in ("format", "stand-alone"):
        for width in ("abbreviated", "wide"):
            words.update(name.lower().strip(".") for name in locale.months[context][width].values())
            words.update(name.lower().strip(".") for name in locale.days[context][width].values())
    for name in locale.territories.values():
        words.update(word.lower() for word in WORD.findall(name))
    return words


class VisibleText(HTMLParser):
    """Text nodes a person sees or hears (not inside script/style), the accessible attributes, and links."""

    SPOKEN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._hidden = 0
        # an element in another language (a language's own name, ``lang="es"``) or data not to translate
        # (``translate="no"``: a device's user agent)
        self._foreign: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in ("script", "style", "template"):
            self._hidden += 1
        if (values.get("lang") and tag != "html") or values.get("translate") == "no":
            self._foreign = tag
        for name in self.SPOKEN_ATTRIBUTES:
            if values.get(name):
                self.texts.append(values[name])
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(values["value"])
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        if tag == "form" and values.get("method", "get").lower() == "get" and values.get("action"):
            self.links.append(values["action"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1
        if tag == self._foreign:
            self._foreign = None

    def handle_data(self, data: str) -> None:
        if not self._hidden and self._foreign is None and data.strip():
            self.texts.append(data.strip())


def untranslated(text: str, allowed: set[str]) -> list[str]:
    outside = MARKED.sub(" ", text)
    outside = re.sub(r"\S+@\S+", " ", outside)  # e-mail addresses
    outside = re.sub(r"\b[\w-]+(\.[\w-]+)+\b", " ", outside)  # domains and file names
    return [word for word in WORD.findall(outside) if word.lower() not in allowed]


def shape(path: str) -> str:
    return ID_IN_PATH.sub("/{id}", path)


def signed_in(base_url: str, email: str | None) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    session.cookies.set("balcao_csrf", CSRF)
    if email:
        response = session.post(
            f"{base_url}/login",
            data={"email": email, "password": DEMO_PASSWORD, "next": "/", "csrf_token": CSRF},
            timeout=30,
        )
        assert response.status_code == 200 and "/login" not in response.url, response.text[:500]
    return session


def walk(base_url: str, session: requests.Session, starts: tuple[str, ...], allowed: set[str]) -> dict[str, list]:
    """Pages visited → the untranslated words found on each (empty lists for clean pages)."""
    found: dict[str, list] = {}
    visits: dict[str, int] = {}
    queue = deque(starts)
    while queue:
        path = queue.popleft()
        if path in found or visits.get(shape(path), 0) >= VISITS_PER_SHAPE:
            continue
        visits[shape(path)] = visits.get(shape(path), 0) + 1
        split = urlsplit(path)
        query = urlencode([*parse_qsl(split.query), ("lang", PSEUDO)])
        response = session.get(f"{base_url}{split.path}?{query}", timeout=30, allow_redirects=True)
        if "text/html" not in response.headers.get("Content-Type", ""):
            continue
        assert response.status_code < 500, f"{path}: {response.status_code}"
        parser = VisibleText()
        parser.feed(response.text)
        found[path] = [(text, words) for text in parser.texts if (words := untranslated(text, allowed))]
        for link in parser.links:
            target = urlsplit(urljoin(f"{base_url}{split.path}", link))
            if target.netloc != urlsplit(base_url).netloc or target.path.startswith(SKIPPED_PREFIXES):
                continue
            next_path = target.path + (f"?{target.query}" if target.query else "")
            next_path = re.sub(r"[?&]lang=[^&]*", "", next_path)
            queue.append(next_path)
    return found


@pytest.mark.parametrize("email", [None, "ana@example.com", "bruno@example.com"], ids=["anonymous", "ana", "bruno"])
def test_every_page_is_translated(devstack, client, email):
    allowed = seeded_words() | babel_words() | {"balcão", "balcao"}
    session = signed_in(client.base_url, email)
    starts = ANONYMOUS_PAGES if email is None else ("/",)
    pages = walk(client.base_url, session, starts, allowed)
    assert len(pages) >= (len(ANONYMOUS_PAGES) if email is None else 8), sorted(pages)
    problems = {path: texts for path, texts in pages.items() if texts}
    assert not problems, "text outside the translation catalogs:\n" + "\n".join(
        f"{path}: {texts[:5]}" for path, texts in sorted(problems.items())
    )
