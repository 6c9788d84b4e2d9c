"""The generic form view on a grouped screen: one screen, every question spoken, each error
beside its own field, a counter that counts screens."""

from __future__ import annotations

import re

from test_ui_flow import post, register_to_household
from ui_kit import Kit

from kiosk.core.forms import load_form
from ui import services
from ui.forms_view import screen_prompt, screens, validate_screen

FORM = load_form("household_v1")
"""The grouped screens are a form mechanism; household_v1 is the shipped form that has them."""


def _counts_screen() -> tuple[int, object]:
    views = screens(FORM, "id", {})
    index = next(i for i, v in enumerate(views) if v.page_id == "members")
    return index, views[index]


def test_the_counts_are_one_screen_and_its_prompt_reads_every_question() -> None:
    _, view = _counts_screen()
    ids = [q.id for q in view.questions]  # type: ignore[attr-defined]
    assert ids == ["members_count", "children_count", "elderly_count"]
    prompt = screen_prompt(view, {})  # type: ignore[arg-type]
    for q in view.questions:  # type: ignore[attr-defined]
        assert q.label in prompt
    assert prompt.index("Kartu Keluarga") < prompt.index("di bawah 18") < prompt.index("60 tahun")


def test_the_counter_counts_screens() -> None:
    views = screens(FORM, "id", {"disability": False})
    assert [v.number for v in views] == list(range(1, len(views) + 1))
    assert {v.total for v in views} == {len(views)}


def test_children_more_than_people_is_refused_on_the_children_field() -> None:
    _, view = _counts_screen()
    raw = {"members_count": "2", "children_count": "3", "elderly_count": "0"}
    values, errors = validate_screen(FORM, view, raw, "en")  # type: ignore[arg-type]
    assert list(errors) == ["children_count"] and "3" in errors["children_count"]
    assert values == {"members_count": 2, "elderly_count": 0}
    spoken = screen_prompt(view, errors)  # type: ignore[arg-type]
    assert spoken.index(errors["children_count"]) < spoken.index("di bawah 18")


def test_the_grouped_screen_shows_the_error_in_the_childrens_row(kit: Kit) -> None:
    services(kit.app).form = FORM
    c = kit.app.test_client()
    register_to_household(kit, c)
    r = post(c, "/household/0", action="next", kk_number="3510011501200003")
    assert r.headers["Location"].endswith("/household/1")  # type: ignore[attr-defined]
    r = post(
        c, "/household/1", action="next", members_count="2", children_count="3", elderly_count="0"
    )
    assert r.status_code == 422  # type: ignore[attr-defined]
    html = r.get_data(as_text=True)  # type: ignore[attr-defined]
    rows = re.findall(
        r'<div class="group-row[^"]*">(.*?)</div>\s*(?=<div class="group-row|<div class="actions)',
        html,
        re.S,
    )
    assert len(rows) == 3, html[:3000]
    assert [("q-children_count-error" in row) for row in rows] == [False, True, False]
    assert 'id="q-children_count" name="children_count"' in rows[1]
    assert 'aria-describedby="q-children_count-error"' in rows[1]
    assert 'value="2"' in rows[0] and 'value="3"' in rows[1]  # what was typed stays
    assert "Pertanyaan 2 dari 16" in html
