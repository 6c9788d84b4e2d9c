"""One translation model: every user-visible string (UI, core messages, form and consent data)
is a msgid of one gettext catalogue, translated in every registered language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from kiosk import languages
from kiosk.core.forms import load_consent, load_form

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "ui"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "N_": None,
}
"""The keywords of the documented ``pybabel extract`` command (``-k _l -k N_``)."""
SOURCES = ("ui", "kiosk", "provisioning")


def extracted() -> set[str]:
    """Msgids found in the sources and the form/consent definitions now (not the .pot)."""
    with (UI / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = set()
    for source in SOURCES:
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(ROOT / source), method_map, options_map, keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return {m for m in found if m}


def catalog(lang: str, kind: str = "po") -> dict[str, str]:
    path = UI / "translations" / lang / "LC_MESSAGES" / f"messages.{kind}"
    with path.open("rb") as fh:
        cat = read_po(fh) if kind == "po" else read_mo(fh)
    out = {}
    for m in cat:
        if not m.id or m.fuzzy:
            continue
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        out[str(msgid)] = "" if not all(strings) else str(strings[0])
    return out


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\(\w+\)s", text))


def test_the_definitions_are_in_the_extraction() -> None:
    ids = extracted()
    assert len(ids) > 400
    assert set(load_form().texts()) <= ids
    assert set(load_consent().texts()) <= ids
    assert "A NIK has 16 digits; you typed only %(count)s. A digit is missing." in ids


@pytest.mark.parametrize("lang", languages.CODES)
def test_every_msgid_has_a_translation_in_every_registered_language(lang: str) -> None:
    """A registered language is complete: every UI text, spoken prompt, question, consent
    sentence and error message has a non-empty translation with the same placeholders."""
    po = catalog(lang)
    missing = sorted(m for m in extracted() if not po.get(m))
    assert not missing, f"untranslated in {lang}/messages.po: {missing}"
    wrong = sorted(m for m, t in po.items() if t and placeholders(t) != placeholders(m))
    assert not wrong, f"placeholders differ in {lang}/messages.po: {wrong}"


@pytest.mark.parametrize("lang", languages.CODES)
def test_compiled_catalogue_matches_the_po(lang: str) -> None:
    assert languages.catalogue(lang).is_file(), f"compile {lang}: pybabel compile"
    assert catalog(lang, "mo") == {k: v for k, v in catalog(lang).items() if v}


def test_every_catalogue_folder_is_a_registered_language() -> None:
    folders = {p.parent.parent.name for p in (UI / "translations").glob("*/LC_MESSAGES/*.po")}
    assert folders == set(languages.CODES)


def test_no_hard_coded_text_in_templates() -> None:
    """Text nodes in templates are only gettext calls, variables, icons or punctuation."""
    tag_text = re.compile(r">([^<>{}]*[A-Za-z]{3,}[^<>{}]*)<")
    offenders = []
    for tpl in (UI / "templates").rglob("*.html"):
        source = re.sub(r"{[{%#].*?[}%#]}", "", tpl.read_text(), flags=re.S)
        source = re.sub(r"&[a-z]+;|&#\d+;", "", source)
        offenders += [f"{tpl.name}: {t.strip()}" for t in tag_text.findall(source) if t.strip()]
    assert not offenders


@pytest.mark.parametrize("lang", languages.CODES)
def test_pages_render_in_each_language(kit, lang: str) -> None:
    c = kit.app.test_client()
    html = c.get("/language").get_data(as_text=True)
    token = html.split('name="csrf-token" content="')[1].split('"')[0]
    c.post("/language", data={"csrf_token": token, "lang": lang})
    menu = c.get("/menu").get_data(as_text=True)
    assert languages.translator(lang)("Register") in menu
    assert f'<html lang="{lang}" dir="ltr">' in menu
