"""Every user-visible string of the UI goes through gettext and has an Indonesian translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

UI = Path(__file__).resolve().parents[2] / "ui"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]


def extracted() -> set[str]:
    """Msgids found in the UI's templates and Python now (not from the committed .pot)."""
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(UI), METHODS, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return {m for m in found if m}


def catalog(lang: str, kind: str = "po") -> dict[str, str]:
    path = UI / "translations" / lang / "LC_MESSAGES" / f"messages.{kind}"
    with path.open("rb") as fh:
        cat = read_po(fh) if kind == "po" else read_mo(fh)
    return {str(m.id): str(m.string) for m in cat if m.id and not m.fuzzy}


def test_every_template_and_python_string_has_an_indonesian_translation() -> None:
    ids = extracted()
    assert len(ids) > 100
    po = catalog("id")
    missing = sorted(m for m in ids if not po.get(m))
    assert not missing, f"untranslated in id/messages.po: {missing}"


def test_compiled_catalogue_matches_the_po() -> None:
    assert catalog("id", "mo") == {k: v for k, v in catalog("id").items() if v}


def test_no_hard_coded_text_in_templates() -> None:
    """Text nodes in templates are only gettext calls, variables, icons or punctuation."""
    import re

    tag_text = re.compile(r">([^<>{}]*[A-Za-z]{3,}[^<>{}]*)<")
    offenders = []
    for tpl in (UI / "templates").rglob("*.html"):
        source = re.sub(r"{[{%#].*?[}%#]}", "", tpl.read_text(), flags=re.S)
        source = re.sub(r"&[a-z]+;|&#\d+;", "", source)
        offenders += [f"{tpl.name}: {t.strip()}" for t in tag_text.findall(source) if t.strip()]
    assert not offenders


@pytest.mark.parametrize("lang", ["id", "en"])
def test_pages_render_in_each_language(kit, lang: str) -> None:
    c = kit.app.test_client()
    html = c.get("/language").get_data(as_text=True)
    token = html.split('name="csrf-token" content="')[1].split('"')[0]
    c.post("/language", data={"csrf_token": token, "lang": lang})
    menu = c.get("/menu").get_data(as_text=True)
    assert ("Daftar" if lang == "id" else "Register") in menu
    assert f'<html lang="{lang}">' in menu
