"""Translation catalogs: extract, update, compile and check.

Each capability keeps its own ``<domain>.po`` per locale in ``balcao/web/translations/<locale>/LC_MESSAGES``; the
runtime merges every domain of a locale. ``check`` extracts every message from the code and templates and fails
when a locale lacks a translation, has a fuzzy or empty entry, or keeps a message nobody uses anymore.

Usage: ``python -m devstack.catalogs compile|check|update|fill|adopt [--domain NAME] [--locale L] [--source JSON]``.
"""

from __future__ import annotations

import argparse
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from devstack.template import ROOT

PACKAGE = ROOT / "layers" / "core" / "balcao"
TRANSLATIONS = PACKAGE / "web" / "translations"
LOCALES = ("pt_BR", "es", "en")
METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**/templates/**.txt", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
OPTIONS = {
    "**/templates/**.html": {"extensions": "jinja2.ext.i18n"},
    "**/templates/**.txt": {"extensions": "jinja2.ext.i18n"},
}


def extract() -> dict[str, list[str]]:
    """msgid (or the singular of a plural) → where it is used."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), METHOD_MAP, options_map=OPTIONS, keywords=KEYWORDS
    ):
        singular = message[0] if isinstance(message, tuple) else message
        if singular:
            found.setdefault(singular, []).append(f"{filename}:{lineno}")
    return found


def po_files(locale: str) -> list[Path]:
    return sorted((TRANSLATIONS / locale / "LC_MESSAGES").glob("*.po"))


def read(path: Path, locale: str) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def compile_all() -> int:
    count = 0
    for locale in LOCALES:
        for po in po_files(locale):
            catalog = read(po, locale)
            buffer = BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            target = po.with_suffix(".mo")
            if not target.exists() or target.read_bytes() != buffer.getvalue():
                target.write_bytes(buffer.getvalue())
            count += 1
    print(f"catalogs: compiled {count} files")
    return 0


def check() -> int:
    used = extract()
    problems: list[str] = []
    for locale in LOCALES:
        translated: dict[str, str] = {}
        for po in po_files(locale):
            for message in read(po, locale):
                if not message.id:
                    continue
                key = message.id[0] if isinstance(message.id, tuple) else message.id
                if message.fuzzy:
                    problems.append(f"{locale}: fuzzy entry in {po.name}: {key!r}")
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if not all(strings):
                    problems.append(f"{locale}: empty translation in {po.name}: {key!r}")
                if key in translated:
                    problems.append(f"{locale}: {key!r} is translated twice ({po.name})")
                translated[key] = strings[0]
                if key not in used:
                    problems.append(f"{locale}: {po.name} keeps a message no code uses: {key!r}")
        for key, places in sorted(used.items()):
            if key not in translated:
                problems.append(f"{locale}: missing translation for {key!r} (used at {places[0]})")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(f"catalogs: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"catalogs: {len(used)} messages, complete in {', '.join(LOCALES)}")
    return 0


def update(domain: str) -> int:
    """Add every untranslated message to ``<domain>.po`` of each locale (English gets msgstr = msgid)."""
    used = extract()
    for locale in LOCALES:
        known = {
            (m.id[0] if isinstance(m.id, tuple) else m.id) for po in po_files(locale) for m in read(po, locale) if m.id
        }
        target = TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"
        target.parent.mkdir(parents=True, exist_ok=True)
        catalog = read(target, locale) if target.exists() else Catalog(locale=locale, domain=domain)
        catalog.project, catalog.version, catalog.fuzzy = "Balcão", "1", False
        added = 0
        for key in sorted(used):
            if key in known:
                continue
            catalog.add(key, string=key if locale == "en" else "", locations=[])
            added += 1
        with target.open("wb") as handle:
            write_po(handle, catalog, width=120, omit_header=False, sort_output=True, no_location=True)
        print(f"{locale}/{domain}.po: {added} new message(s)")
    return 0


def adopt(domain: str, source: Path) -> int:
    """Add the messages of a JSON file ``{msgid: {"pt_BR": ..., "es": ...}}`` to ``<domain>.po`` of every locale.

    A plural message gives its English plural and a list of forms per locale:
    ``{"%(num)d ticket": {"plural": "%(num)d tickets", "pt_BR": ["%(num)d ticket", "%(num)d tickets"], "es": [...]}}``.
    """
    import json

    entries: dict[str, dict[str, Any]] = json.loads(source.read_text())
    for locale in LOCALES:
        target = TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"
        target.parent.mkdir(parents=True, exist_ok=True)
        catalog = read(target, locale) if target.exists() else Catalog(locale=locale, domain=domain)
        catalog.project, catalog.version, catalog.fuzzy = "Balcão", "1", False
        for msgid, translations in entries.items():
            plural = translations.get("plural")
            if plural:
                forms = (msgid, plural) if locale == "en" else tuple(translations[locale])
                catalog.add((msgid, plural), string=forms, locations=[])
            else:
                catalog.add(msgid, string=msgid if locale == "en" else translations[locale], locations=[])
        with target.open("wb") as handle:
            write_po(handle, catalog, width=120, sort_output=True, no_location=True)
    print(f"{domain}.po: adopted {len(entries)} message(s) from {source.name}")
    return 0


def fill(domain: str, locale: str, source: Path) -> int:
    """Set translations of ``<locale>/<domain>.po`` from a JSON object ``{msgid: msgstr}``."""
    import json

    target = TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"
    catalog = read(target, locale)
    translations = json.loads(source.read_text())
    changed = 0
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key in translations:
            value = translations[key]
            message.string = tuple(value) if isinstance(message.id, tuple) else value
            message.flags.discard("fuzzy")
            changed += 1
    with target.open("wb") as handle:
        write_po(handle, catalog, width=120, sort_output=True, no_location=True)
    print(f"{locale}/{domain}.po: {changed} translation(s) set")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.catalogs")
    parser.add_argument("command", choices=["compile", "check", "update", "fill", "adopt"])
    parser.add_argument("--domain", default="core")
    parser.add_argument("--locale", choices=LOCALES)
    parser.add_argument("--source", type=Path, help="JSON {msgid: msgstr} for fill")
    arguments = parser.parse_args(argv)
    if arguments.command == "fill":
        return fill(arguments.domain, arguments.locale, arguments.source)
    if arguments.command == "adopt":
        return adopt(arguments.domain, arguments.source)
    if arguments.command == "compile":
        return compile_all()
    if arguments.command == "check":
        return check()
    return update(arguments.domain)


if __name__ == "__main__":
    sys.exit(main())
