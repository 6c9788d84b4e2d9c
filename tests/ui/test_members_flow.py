"""The member list through Flask's test client: NIK-derived sex and age, refusals beside the
field, Remove, and member NIKs kept out of logs and cookies (sealed in the record only)."""

from __future__ import annotations

import logging
import re

import pytest
from test_ui_flow import add_member, answer_all, post, register_to_household
from ui_kit import Kit

WIFE_NIK = "3510014507850002"  # a woman born 5 July 1985


def test_a_member_nik_gives_sex_and_age_and_stays_out_of_logs_and_cookies(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c = kit.app.test_client()
    register_to_household(kit, c)
    answer_all(kit, c)  # the head, typed without a NIK
    post(c, "/consent", decision="agree")
    html = c.get("/review").get_data(as_text=True)
    edit = sorted(set(re.findall(r'name="edit" value="(\d+)"', html)), key=int)[1]  # members
    post(c, "/review", edit=edit)
    r = add_member(c, int(edit), name="Sri", relation="wife", nik=WIFE_NIK, sex="", age="")
    assert r.headers["Location"].endswith(f"/household/{edit}")  # type: ignore[attr-defined]
    listing = c.get(f"/household/{edit}").get_data(as_text=True)
    assert "Sri" in listing and "Istri, perempuan, 41 tahun" in listing
    post(c, f"/household/{edit}", action="next")
    post(c, "/review", action="send")
    record = kit.sealer.sealed[-1]
    wife = record["answers"]["members"][1]
    assert (wife["nik"], wife["sex"], wife["birth_date"]) == (WIFE_NIK, "F", "1985-07-05")
    assert record["answers"]["members_count"] == 2
    assert WIFE_NIK not in caplog.text, "a member NIK is never logged"
    with c.session_transaction() as cookie:  # the decoded session cookie
        assert WIFE_NIK not in repr(dict(cookie)), "a member NIK is never in the cookie"


def test_a_wrong_member_nik_is_refused_beside_the_field_and_spoken(kit: Kit) -> None:
    c = kit.app.test_client()
    register_to_household(kit, c)
    post(c, "/household/0", action="next", kk_number="3510011501200003", dusun="Krajan")
    r = post(
        c,
        "/household/1/member",
        action="next",
        name="Sri",
        nik="3510014507850000",
        relation="head",
        school="left",
        work="farmer",
        chronic="no",
    )
    assert r.status_code == 422  # type: ignore[attr-defined]
    html = r.get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'id="m-nik-error"' in html and "0000" in html
    assert 'aria-describedby="m-nik-error"' in html
    assert 'value="Sri"' in html, "what was typed stays"


def test_remove_takes_a_member_off_the_list(kit: Kit) -> None:
    c = kit.app.test_client()
    register_to_household(kit, c)
    post(c, "/household/0", action="next", kk_number="3510011501200003", dusun="Krajan")
    add_member(c, 1)
    add_member(c, 1, name="Budi", relation="husband", sex="M", age="50")
    assert "Budi" in c.get("/household/1").get_data(as_text=True)
    post(c, "/household/1/member/remove", i="1")
    listing = c.get("/household/1").get_data(as_text=True)
    assert "Budi" not in listing and "Siti Aminah" in listing
