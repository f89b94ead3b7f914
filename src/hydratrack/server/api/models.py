"""Request bodies shared by the task routes (pydantic models; FastAPI validates them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hydratrack.status import RUN_OUTCOME_VALUES

Name = Annotated[str, Field(min_length=1, max_length=255)]
TaskId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
Scalar = str | int | float | bool


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParamIn(Strict):
    value: Scalar | None = None
    type: str | None = None
    description: str | None = None


ParamValue = ParamIn | Scalar
Section = dict[Annotated[str, Field(min_length=1, max_length=1000)], ParamValue | None]
Hyperparams = dict[Name, Section]


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
