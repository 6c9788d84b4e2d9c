"""Building blocks of the configuration models: the strict section base, path and ordering.

Kept apart from ``kiosk.config`` so that a backend's own settings model (``kiosk.backends``)
can be declared beside its registry row without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

LaxPath = Annotated[Path, Strict(False)]
"""A path setting: TOML has no path type, so text is accepted (every other scalar is strict)."""


def setting(default: Any, description: str, *, unit: str | None = None, **rules: Any) -> Any:
    """A setting's default, its description (ended by its ``unit``) and pydantic ``rules``."""
    if unit is not None:
        description = f"{description}, {unit}"
    return Field(default, description=description, **rules)


def seconds(default: float, description: str, **rules: Any) -> Any:
    """A duration setting, in seconds (the unit ends its description)."""
    return setting(default, description, unit="seconds", **rules)


@dataclass(frozen=True)
class Order:
    """Setting ``low`` must not be above setting ``high`` (with ``strict``, must be below)."""

    low: str
    high: str
    message: str  # what the technician reads when it is broken
    strict: bool = False

    def holds(self, model: BaseModel) -> bool:
        """True when ``model``'s two settings are in this order."""
        low, high = getattr(model, self.low), getattr(model, self.high)
        return bool(low < high if self.strict else low <= high)


class Section(BaseModel):
    """One strict configuration table."""

    # strict: "yes" is not a bool and "60" not a number; a typo'd type is an error, not a guess
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)

    ORDERS: ClassVar[tuple[Order, ...]] = ()
    """Orderings between this section's settings, checked once every field is valid."""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        for order in self.ORDERS:
            if not order.holds(self):
                raise ValueError(order.message)
        return self
