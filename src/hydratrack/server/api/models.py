"""Request bodies shared by the task routes (pydantic models; FastAPI validates them).

Every request model derives from :class:`Strict`: unknown fields are refused and the
input limits (``server/limits.py``) are checked once over the whole raw input, before the
fields are validated. The events batch, validated from raw JSON on its hot path, derives
from :class:`Typed` instead: each of its fields has a type that carries the same rules.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from hydratrack.server import limits
from hydratrack.status import RUN_OUTCOME_VALUES

Name = Annotated[str, Field(min_length=1, max_length=255)]
TaskId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
Scalar = str | int | float | bool
# For typed models (no whole-input check): a name, and program output kept with escapes.
Identifier = Annotated[str, AfterValidator(limits.identifier)]
Output = Annotated[str, AfterValidator(limits.output_text)]


def _whole(data: Any) -> Any:
    """A whole request body (or a body's part), checked against the input limits."""
    return limits.check(data, "body")


class Typed(BaseModel):
    """(Its names have their own length limits; program output is bounded by the body
    limit only: a long line is kept, never refused.)"""

    model_config = ConfigDict(extra="forbid")


class Strict(Typed):
    @model_validator(mode="before")
    @classmethod
    def _input_limits(cls, data: Any) -> Any:
        """(A nested model checks its part again: small, and the outer check came first
        with the full field path.)"""
        return _whole(data)


class ParamIn(Strict):
    value: Scalar | None = None
    type: str | None = None
    description: str | None = None


ParamValue = ParamIn | Scalar
# (bodies of their own too: PATCH /hyperparams, PUT /hyperparams/{section})
Section = Annotated[
    dict[Annotated[str, Field(min_length=1, max_length=1000)], ParamValue | None],
    BeforeValidator(_whole),
]
Hyperparams = Annotated[dict[Name, Section], BeforeValidator(_whole)]


class ConfigIn(Strict):
    value: str
    type: str | None = None
    description: str | None = None


class TaskIn(Strict):
    id: TaskId | None = None
    name: Name
    project: Name | None = None
    project_id: str | None = None
    type: Annotated[str, Field(max_length=64)] | None = None
    status: Literal["draft", "in_progress", "completed", "failed", "stopped"] | None = None
    status_message: Annotated[str, Field(max_length=10_000)] | None = None
    status_reason: Annotated[str, Field(max_length=10_000)] | None = None
    script: dict[str, Any] | None = None
    runtime: dict[str, Any] | None = None
    tags: list[Name] | None = None
    comment: str | None = None
    parent: str | None = None
    hyperparams: Hyperparams | None = None
    configuration: dict[Name, ConfigIn] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "TaskIn":
        if not self.project and not self.project_id:
            raise ValueError("give project (a name) or project_id")
        if self.status not in RUN_OUTCOME_VALUES and (
            self.status_message is not None or self.status_reason is not None
        ):
            raise ValueError(
                f"status_message and status_reason go with a final status (completed, "
                f"failed or stopped), not with status {self.status or 'draft'}"
            )
        return self


class TaskPatch(Strict):
    name: Name | None = None
    comment: str | None = None
    tags: list[Name] | None = None
    script: dict[str, Any] | None = None
    runtime: dict[str, Any] | None = None


def dump(model: BaseModel) -> dict[str, Any]:
    """Only the fields the client sent (so absent and null differ where it matters)."""
    return model.model_dump(exclude_unset=True)
