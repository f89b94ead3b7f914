"""Edits of a cloned task: validation on save and application at run time.

Importable without the server stack (Hydra, OmegaConf and PyYAML only).
"""

from __future__ import annotations

from hydratrack.edits.validate import EditProblem, validate_configuration, validate_hyperparams

__all__ = ["EditProblem", "validate_configuration", "validate_hyperparams"]
