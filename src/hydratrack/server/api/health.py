"""``GET /health``: answers without credentials once the server is ready."""

from __future__ import annotations

from fastapi import APIRouter

import hydratrack

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "version": hydratrack.__version__}
