"""The dusun beside the No. KK (household_v2), through Flask's test client: chosen from the
village's list (provisioned, or the portal's signed list, which wins), typed where the kiosk has
none, refused when not one of the names, and counted by dusun in the village meeting report."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from test_ui_flow import answer_all, post, register_to_household
from ui_kit import Kit, build_kit

from kiosk.app import village_lists
from kiosk.config import KioskConfig
from kiosk.core.forms import load_form
from kiosk.core.tally import registration_counts
from kiosk.store import tally as tally_store

KK = "3510011501200003"


def provisioned(cfg: KioskConfig, *names: str) -> KioskConfig:
    return cfg.model_copy(update={"device": cfg.device.model_copy(update={"dusun": list(names)})})


def counts_by_dusun(kit: Kit) -> dict[str, int]:
    conn = kit.repo._conn  # type: ignore[attr-defined]
    day = dt.date(2026, 11, 29)
    return tally_store.totals(conn, day, day).by_metric.get("registration", {})


def test_the_village_list_is_offered_beside_the_kk_and_counted(
    cfg: KioskConfig, tmp_path: Path
) -> None:
    kit = build_kit(provisioned(cfg, "Krajan", "Sumberejo"), tmp_path)
    c = kit.app.test_client()
    register_to_household(kit, c)
    html = c.get("/household").get_data(as_text=True)
    assert 'class="keypad' in html and 'name="kk_number"' in html, "the KK keeps its keypad"
    select = re.search(r'<select id="q-dusun" name="dusun".*?</select>', html, re.S)
    assert select is not None, "a list of the village's dusun, not a typed field"
    assert re.findall(r'<option value="([^"]*)"', select.group(0)) == ["", "Krajan", "Sumberejo"]

    r = post(c, "/household/0", action="next", kk_number=KK, dusun="Tegalsari")
    assert r.status_code == 422  # type: ignore[attr-defined]
    page = r.get_data(as_text=True)  # type: ignore[attr-defined]
    assert 'id="q-dusun-error"' in page and 'aria-invalid="true"' in page
    assert f'value="{KK}"' in page, "the typed No. KK stays"
    answer_all(kit, c)  # the first name of the list (Krajan) beside the No. KK, then the rest
    post(c, "/consent", decision="agree")
    review = c.get("/review").get_data(as_text=True)
    assert "Krajan" in review
    post(c, "/review", action="send")
    assert kit.sealer.sealed[-1]["answers"]["dusun"] == "Krajan"
    assert counts_by_dusun(kit) == {"Krajan": 1}, "counted by dusun, not 'not recorded'"


def test_without_a_list_the_dusun_is_typed_and_required(kit: Kit) -> None:
    c = kit.app.test_client()
    register_to_household(kit, c)
    html = c.get("/household").get_data(as_text=True)
    assert '<input id="q-dusun" name="dusun"' in html
    r = post(c, "/household/0", action="next", kk_number=KK, dusun="  ")
    assert r.status_code == 422 and 'id="q-dusun-error"' in r.get_data(as_text=True)  # type: ignore[attr-defined]
    answer_all(kit, c)
    post(c, "/consent", decision="agree")
    post(c, "/review", edit="0")  # from review, the dusun typed again
    r = post(c, "/household/0", action="next", kk_number=KK, dusun=" Krajan   Lor ")
    assert r.headers["Location"].endswith("/review")  # type: ignore[attr-defined]
    post(c, "/review", action="send")
    assert kit.sealer.sealed[-1]["answers"]["dusun"] == "Krajan Lor"
    assert counts_by_dusun(kit) == {"Krajan Lor": 1}


class Held:
    """The portal's signed village list as the community service holds it."""

    def __init__(self, dusun: tuple[str, ...]) -> None:
        self.dusun = dusun


class Community:
    def __init__(self, held: Held | None) -> None:
        self.held = held

    def recipients(self) -> Held | None:
        return self.held


def test_the_portals_village_list_wins_over_the_provisioned_one(cfg: KioskConfig) -> None:
    cfg = provisioned(cfg, "Krajan")
    assert village_lists(cfg, None)() == {"dusun": ("Krajan",)}
    assert village_lists(cfg, Community(None))() == {"dusun": ("Krajan",)}
    portal = Community(Held(("Krajan", "Sumberejo", "Tegalsari")))
    assert village_lists(cfg, portal)() == {"dusun": ("Krajan", "Sumberejo", "Tegalsari")}
    assert village_lists(cfg, Community(Held(())))() == {"dusun": ("Krajan",)}


def test_the_bound_form_keeps_what_is_stored_and_counted() -> None:
    form = load_form()
    bound = form.with_choices({"dusun": ("Krajan", "Sumberejo")})
    q = bound.question("dusun")
    assert (
        q is not None
        and q.kind == "single"
        and [o.code for o in q.options]
        == [
            "Krajan",
            "Sumberejo",
        ]
    )
    assert form.with_choices({"dusun": ()}) == form, "no list: typed"
    assert form.question("dusun").kind == "text"  # type: ignore[union-attr]
    assert registration_counts({"dusun": "Sumberejo"}, "verified", 1)[0].dusun == "Sumberejo"
