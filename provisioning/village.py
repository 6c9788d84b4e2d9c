"""Step 2, village binding: the Kemendagri village code (checked against the region table),
the kiosk's name and its location."""

from __future__ import annotations

import re
from typing import Any

from kiosk.core.regions import load_table, village_code_valid

from .context import Context
from .errors import StepError
from .tomlfile import load_kiosk_config, update_config

_FAILURES: dict[str, str] = {
    "village_code_format": "is not a 10-digit village code",
    "province_unknown": "has a province part ({p}) that is not in the Kemendagri table",
    "regency_unknown": "has a regency part ({r}) that is not in the Kemendagri table",
    "district_unknown": "has a district part ({d}) that is not in the Kemendagri table",
}
"""Failure code of kiosk.core.regions -> what to tell the technician."""

MAX_NAME = 80
MAX_LOCATION = 200
MAX_DUSUN = 60


def normalise_code(code: str) -> str:
    """Digits only (dots, spaces and dashes dropped)."""
    return re.sub(r"[.\s-]", "", code)


def check_village_code(code: str) -> dict[str, str]:
    """Validate a village code; return its digits and the names of its regions."""
    digits = normalise_code(code)
    verdict = village_code_valid(digits)
    if verdict is not True:
        reason = _FAILURES.get(str(verdict), "is not valid").format(
            p=digits[:2], r=digits[:4], d=digits[:6]
        )
        raise StepError(
            "village_code",
            f"village code {code!r} {reason}",
            "copy the 10-digit code (e.g. 35.10.01.2001) from the village office's letterhead "
            "or the Kemendagri list; 'kiosk nik' shows which part is wrong",
        )
    table = load_table()
    names = {"village_code": digits}
    for level, n in (("province", 2), ("regency", 4), ("district", 6)):
        region = table.get(digits[:n], level)  # type: ignore[arg-type]
        if region is not None:
            names[level] = region.name
    return names


def run_village(ctx: Context, inputs: dict[str, Any]) -> dict[str, Any]:
    """Validate code, name and location, then write them into the kiosk config."""
    code = str(inputs.get("village_code") or "")
    name = str(inputs.get("name") or "").strip()
    location = str(inputs.get("location") or "").strip()
    if not code:
        raise StepError(
            "village_code",
            "no village code given",
            "pass --code with the 10-digit Kemendagri village code",
        )
    found = check_village_code(code)
    dusun = dusun_names(inputs.get("dusun"))
    if not name or len(name) > MAX_NAME:
        raise StepError(
            "kiosk_name",
            f"the kiosk name must be 1-{MAX_NAME} characters",
            "pass --name, e.g. --name 'Kantor Desa Sumberagung'",
        )
    if len(location) > MAX_LOCATION:
        raise StepError(
            "kiosk_location",
            f"the location is longer than {MAX_LOCATION} characters",
            "shorten --location (e.g. 'Balai desa, ruang pelayanan')",
        )
    device: dict[str, Any] = {"village_code": found["village_code"], "name": name}
    if dusun is not None:
        device["dusun"] = dusun
    update_config(ctx.layout.config, {"device": device})
    return {**found, "name": name, "location": location, "dusun": dusun or []}


def dusun_names(raw: Any) -> list[str] | None:
    """The ``--dusun`` list (comma-separated or a list), whitespace collapsed; None: not given
    (the config keeps what it has)."""
    if raw is None:
        return None
    items = raw.split(",") if isinstance(raw, str) else [str(x) for x in raw]
    names = [" ".join(x.split()) for x in items if x.strip()]
    if len(names) > MAX_DUSUN or any(len(n) > 40 for n in names):
        raise StepError(
            "dusun",
            f"at most {MAX_DUSUN} dusun of 1-40 characters each",
            "pass --dusun with the village's dusun names, e.g. --dusun 'Krajan,Sumberejo'",
        )
    return names


def village_done(ctx: Context, inputs: dict[str, Any]) -> bool:
    """Done when the config carries this village code and name."""
    if not ctx.layout.config.is_file() or not inputs.get("village_code"):
        return False
    cfg = load_kiosk_config(ctx.layout.config)
    dusun = dusun_names(inputs.get("dusun"))
    return (
        cfg.device.village_code == normalise_code(str(inputs["village_code"]))
        and cfg.device.name == str(inputs.get("name", "")).strip()
        and (dusun is None or cfg.device.dusun == dusun)
    )
