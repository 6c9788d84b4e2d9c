"""The provisioning steps as one declarative table, and the resumable runner.

Each step has a name, a ``run`` (does the work, safe to repeat) and a ``done`` check that looks
at the real result on disk (not just the state file). Finished steps are recorded in
``<data_dir>/provisioning/state.json`` (written atomically); a re-run skips steps that are
done and picks up at the first one that is not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .agents import agents_done, run_agents
from .context import Context
from .errors import StepError, StepWaiting
from .identity import identity_done, run_identity
from .models import models_done, run_models
from .network import network_done, run_network
from .report import report_done, run_report
from .selftest import run_selftest_step, selftest_done
from .state import State, StepRecord
from .village import run_village, village_done

StepFn = Callable[[Context, dict[str, Any]], dict[str, Any]]
DoneFn = Callable[[Context, dict[str, Any]], bool]

SECRET_INPUTS = frozenset({"wifi_psk", "pin"})
"""Inputs never written to the state file (the technician types them again if needed)."""


@dataclass(frozen=True)
class Step:
    """One row of the step table."""

    name: str
    title: str
    run: StepFn
    done: DoneFn


STEPS: tuple[Step, ...] = (
    Step("identity", "Device identity (keys, CSR, certificate)", run_identity, identity_done),
    Step("village", "Village binding (Kemendagri code, name, location)", run_village, village_done),
    Step("network", "Network (broker, TLS, Wi-Fi)", run_network, network_done),
    Step("models", "Model pack (checksums, tensor shapes)", run_models, models_done),
    Step("agents", "Agent accounts", run_agents, agents_done),
    Step("selftest", "Self-test", run_selftest_step, selftest_done),
    Step("report", "Provisioning report (signed, sent to the portal)", run_report, report_done),
)
STEP_NAMES = tuple(s.name for s in STEPS)
BY_NAME: dict[str, Step] = {s.name: s for s in STEPS}


@dataclass(frozen=True)
class Outcome:
    """What happened to one step in one run: done, skipped (already done), waiting, failed."""

    step: str
    status: str
    summary: dict[str, Any]
    error: StepError | None = None


def public_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs without secrets, with paths as strings (what the state file keeps)."""
    return {
        k: (str(v) if not isinstance(v, bool | int | float | type(None)) else v)
        for k, v in inputs.items()
        if k not in SECRET_INPUTS and v is not None
    }


def run_step(
    ctx: Context, name: str, inputs: Mapping[str, Any] | None = None, *, force: bool = False
) -> Outcome:
    """Run one step with ``inputs`` merged over those remembered; record the result."""
    step = BY_NAME[name]
    state = State.load(ctx.layout.state)
    before = state.inputs.get(name, {})
    given = {k: v for k, v in (inputs or {}).items() if v is not None}
    changed = any(
        k in SECRET_INPUTS or public_inputs({k: v}).get(k) != before.get(k)
        for k, v in given.items()
    )
    merged = {**before, **given}
    state.inputs[name] = public_inputs(merged)
    now = ctx.clock.now()
    if (
        not force
        and not changed
        and step.done(ctx, merged)
        and name in state.steps
        and (state.steps[name].status == "done")
    ):
        state.save(ctx.layout.state)
        return Outcome(name, "skipped", state.steps[name].summary)
    try:
        summary = step.run(ctx, merged)
    except StepError as err:
        status = "waiting" if isinstance(err, StepWaiting) else "failed"
        state.steps[name] = StepRecord(status, now, {}, err.problem, err.code, err.fix)
        state.save(ctx.layout.state)
        return Outcome(name, status, {}, err)
    state.steps[name] = StepRecord("done", now, summary)
    state.save(ctx.layout.state)
    return Outcome(name, "done", summary)


def run_all(
    ctx: Context,
    plan: Mapping[str, Mapping[str, Any]],
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run every step in order, skipping finished ones; stop at the first that is not done."""
    outcomes = []
    for step in STEPS:
        outcome = run_step(ctx, step.name, dict(plan.get(step.name, {})))
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
        if outcome.status not in ("done", "skipped"):
            break
    return outcomes


def status(ctx: Context) -> list[tuple[Step, StepRecord | None, bool]]:
    """Each step with its recorded result and whether its result is in place now."""
    state = State.load(ctx.layout.state)
    rows = []
    for step in STEPS:
        inputs = state.inputs.get(step.name, {})
        try:
            ok = step.done(ctx, inputs)
        except StepError:
            ok = False
        rows.append((step, state.steps.get(step.name), ok))
    return rows
