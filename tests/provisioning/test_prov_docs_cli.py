"""The technician's guide names every error code; CLI odds and ends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.config import REPO_ROOT
from provisioning.cli import load_plan, main
from provisioning.context import Context
from provisioning.errors import StepError


def test_every_error_code_is_explained_in_the_guide() -> None:
    codes: set[str] = {"tensor_shape", "model_invalid"}
    for path in (REPO_ROOT / "provisioning").glob("*.py"):
        codes |= set(re.findall(r'(?:StepError|StepWaiting)\(\s*"([a-z_]+)"', path.read_text()))
    guide = (REPO_ROOT / "docs" / "provisioning.md").read_text()
    missing = sorted(c for c in codes if f"`{c}`" not in guide)
    assert not missing, f"docs/provisioning.md does not explain: {missing}"
    assert len(codes) > 30


def test_plan_with_unknown_section_is_refused(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('[identiy]\ndevice_id = "x"\n')
    with pytest.raises(StepError) as info:
        load_plan(plan)
    assert info.value.code == "plan_unknown_step"
    plan.write_text("[identity\n")
    with pytest.raises(StepError) as info:
        load_plan(plan)
    assert info.value.code == "plan_unreadable"


def test_plan_paths_are_relative_to_the_plan(tmp_path: Path) -> None:
    plan = tmp_path / "usb" / "plan.toml"
    plan.parent.mkdir()
    plan.write_text('[models]\nsource = "models"\n[village]\nname = "models"\n')
    loaded = load_plan(plan)
    assert loaded["models"]["source"] == str(tmp_path / "usb" / "models")
    assert loaded["village"]["name"] == "models"


def test_status_lists_every_step_and_the_last_error(ctx: Context, said: list[str]) -> None:
    assert main(["village", "--code", "99.99.99.9999", "--name", "X"], context=ctx) == 1
    said.clear()
    assert main(["status"], context=ctx) == 0
    text = "\n".join(said)
    for step in ("identity", "village", "network", "models", "agents", "selftest", "report"):
        assert step in text
    assert "village   failed" in text and "How to fix" in text


def test_interrupted_run_says_how_to_resume(
    ctx: Context, said: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import provisioning.village as village

    def power_cut(*_a: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(village, "update_config", power_cut)  # the power goes mid-step
    assert main(["village", "--code", "35.10.01.2001", "--name", "X"], context=ctx) == 130
    assert "Run the same command again" in "\n".join(said)
    assert not ctx.layout.config.exists()
    monkeypatch.undo()
    assert main(["village", "--code", "35.10.01.2001", "--name", "X"], context=ctx) == 0
