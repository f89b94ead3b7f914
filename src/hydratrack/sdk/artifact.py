"""Staging artifacts: a private copy is made at once, the upload happens in the background.

Copying means the script may change or delete its file right after ``upload_artifact``
returns. Objects are serialized: dict/list -> JSON, bytes as is, anything else pickled.
A ``str``/``Path`` names a file that must exist.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
import uuid
from pathlib import Path
from typing import Any


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "artifact"


def stage_artifact(staging: Path, name: str, obj: Any) -> Path:
    if not name or "/" in name:
        raise ValueError(f"artifact name {name!r} must be non-empty and contain no '/'")
    staging.mkdir(parents=True, exist_ok=True)
    stem = f"{uuid.uuid4().hex[:8]}-{_safe(name)}"
    if isinstance(obj, (str, Path)):
        src = Path(obj)
        if src.is_dir():
            raise IsADirectoryError(
                f"upload_artifact({name!r}): {src} is a directory; "
                "upload a file (e.g. make an archive first)"
            )
        if not src.is_file():
            raise FileNotFoundError(f"upload_artifact({name!r}): no such file: {src}")
        dst = staging / f"{stem}-{_safe(src.name)}"
        shutil.copyfile(src, dst)
        return dst
    if isinstance(obj, (bytes, bytearray)):
        dst = staging / f"{stem}.bin"
        dst.write_bytes(bytes(obj))
        return dst
    if isinstance(obj, (dict, list)):
        dst = staging / f"{stem}.json"
        try:
            dst.write_text(json.dumps(obj, ensure_ascii=False, indent=2), encoding="utf-8")
            return dst
        except TypeError:
            dst.unlink(missing_ok=True)
    dst = staging / f"{stem}.pkl"
    with open(dst, "wb") as fh:
        pickle.dump(obj, fh)
    return dst
