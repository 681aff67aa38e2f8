"""The web page's languages: gettext catalogues (Babel), compiled from the `.po` files
when first used, so there is no build step; and the page's dates and numbers in the
chosen locale.

To add or change a string: edit the templates, run `python -m cxport.web.i18n`
(re-extracts `messages.pot` and merges it into every `.po`), translate the new
entries, and `tests/test_web_page_i18n.py` checks that none is left out.
"""

from __future__ import annotations

import datetime as dt
import io
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.numbers import format_decimal
from babel.support import Translations

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
LOCALE_DIR = HERE / "locale"
DOMAIN = "messages"

# The page's languages: (code in the page and the API, Babel locale, the language's own name).
LANGS: dict[str, tuple[str, str]] = {"en": ("en", "English"), "pt-BR": ("pt_BR", "Português")}
DEFAULT_LANG = "en"
EXTRACT_METHODS = [("**.html", "jinja2.ext:babel_extract")]
EXTRACT_OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}


def locale_of(lang: str) -> str:
    return LANGS.get(lang, LANGS[DEFAULT_LANG])[0]


def po_path(lang: str) -> Path:
    return LOCALE_DIR / locale_of(lang) / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> Translations:
    """The catalogue of `lang`, compiled in memory from its `.po` (English: none)."""
    path = po_path(lang)
    if lang == DEFAULT_LANG or not path.exists():
        return Translations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale_of(lang))
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def pick_lang(asked: str | None, cookie: str | None, accept: str | None) -> str:
    """The page's language: asked (`?lang=`), else remembered (cookie), else the browser's."""
    for lang in (asked, cookie):
        if lang in LANGS:
            return lang
    for part in (accept or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("pt"):
            return "pt-BR"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANG


@cache
def time_zones() -> tuple[str, ...]:
    """The IANA zones offered by the form (no `posix/`, `right/` or legacy aliases)."""
    legacy = ("posix/", "right/", "SystemV/", "US/", "Etc/GMT", "Canada/", "Brazil/", "Mexico/")
    return tuple(
        sorted(
            z
            for z in available_timezones()
            if ("/" in z or z == "UTC") and not z.startswith(legacy) and z != "localtime"
        )
    )


class Formats:
    """Dates, numbers, sizes and durations in one locale, instants in one zone."""

    def __init__(self, lang: str, tz: str = "UTC") -> None:
        self.locale = Locale.parse(locale_of(lang))
        self.zone = ZoneInfo(tz if tz in time_zones() else "UTC")

    def date(self, iso: str) -> str:
        return format_date(dt.date.fromisoformat(iso), "medium", locale=self.locale)

    def instant(self, iso: str | None) -> str:
        if not iso:
            return ""
        at = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
        day = format_date(at.astimezone(self.zone), "medium", locale=self.locale)
        return f"{day} {format_time(at, 'short', tzinfo=self.zone, locale=self.locale)}"

    def number(self, n: int | float | None) -> str:
        return "" if n is None else format_decimal(n, locale=self.locale)

    def size(self, n: int | None) -> str:
        if n is None:
            return ""
        for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
            if n >= scale:
                return f"{format_decimal(n / scale, '#,##0.0', locale=self.locale)} {unit}"
        return f"{format_decimal(n, locale=self.locale)} B"

    def took(self, start: str | None, end: str | None) -> str:
        if not start or not end:
            return ""
        seconds = (
            dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
            - dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        ).total_seconds()
        if seconds < 60:
            unit_s = format_timedelta(
                dt.timedelta(seconds=1), format="narrow", locale=self.locale
            ).lstrip("1")
            return f"{format_decimal(round(seconds, 1), '#,##0.0', locale=self.locale)}{unit_s}"
        return format_timedelta(
            dt.timedelta(seconds=seconds), threshold=2, format="short", locale=self.locale
        )


def update_catalogues() -> None:
    """Re-extract the templates' strings into `messages.pot` and merge it into every `.po`."""
    template = Catalog(project="cxport", domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        TEMPLATES, EXTRACT_METHODS, EXTRACT_OPTIONS
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    LOCALE_DIR.mkdir(exist_ok=True)
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as f:
        write_po(f, template, omit_header=True, sort_output=True)
    for lang in LANGS:
        if lang == DEFAULT_LANG:
            continue
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=locale_of(lang))
        else:
            catalog = Catalog(locale=locale_of(lang), domain=DOMAIN, project="cxport")
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as f:
            write_po(f, catalog, omit_header=True, sort_output=True, ignore_obsolete=True)


if __name__ == "__main__":
    update_catalogues()
