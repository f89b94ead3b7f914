"""Secret-looking config values, masked in every read; the store keeps the real ones.

A value is secret when its dotted name (``db.pass``, ``wandb.token``, a YAML key path)
matches the server's ``--secret-pattern`` (by default ``pass``, ``password``, ``secret``,
``token``, ``api_key``, ``key`` ... as a whole word between ``.``, ``_``, ``-`` or the
ends: ``db.pass`` and ``api_key`` are secret, ``keyboard`` and ``monkey`` are not). It
reads as ``********`` in hyperparameters, the task list's params columns, the
``runtime.hydra`` overrides and ``script.argv`` (``key=value`` items), and in configuration
texts, where only the value's characters are replaced (by ``'********'``, quoted so the
YAML stays valid) and everything else is left as written.

An edit that sends the mask back keeps the stored value: :meth:`SecretMask.keep_hyperparams`
and :meth:`SecretMask.keep_text` put the real values in place of masks before a save.

Everything here is pure (text in, text out). Who may read the real values is decided
by :func:`may_read_secrets`, the one place the permission check guards.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import re
import shlex
from collections.abc import Callable, Mapping
from typing import Any

import yaml  # type: ignore[import-untyped]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster
MASK = "********"
YAML_MASK = "'********'"  # a bare ******** would read as a YAML alias
NOT_SECRET = {"", "???", "null", "~", "None"}  # nothing to hide: missing / empty values
STATUS_WITH_SECRETS = {"in_progress"}


@dataclasses.dataclass(frozen=True)
class Span:
    """A scalar value in a YAML text: its key path, where it is, what it says."""

    path: str
    start: int
    end: int
    value: str


def _yaml_spans(text: str, is_secret: Callable[[str], bool]) -> list[Span] | None:
    """The secret scalar values of a YAML text, or None when it is not YAML."""
    stack: list[list[Any]] = []  # per open collection: [kind, current key]
    expect_key = False
    out: list[Span] = []
    try:
        docs = list(yaml.compose_all(text, Loader=_LOADER))
        tokens = list(yaml.scan(text, Loader=_LOADER))
    except yaml.YAMLError:
        return None
    if any(isinstance(d, yaml.ScalarNode) for d in docs):  # e.g. an INI file read as text
        return None
    for tok in tokens:
        if isinstance(tok, (yaml.BlockMappingStartToken, yaml.FlowMappingStartToken)):
            stack.append(["map", None])
        elif isinstance(tok, (yaml.BlockSequenceStartToken, yaml.FlowSequenceStartToken)):
            stack.append(["seq", None])
        elif isinstance(
            tok, (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)
        ):
            if stack:
                stack.pop()
        elif isinstance(tok, yaml.KeyToken):
            expect_key = True
        elif isinstance(tok, yaml.ValueToken):
            expect_key = False
        elif isinstance(tok, yaml.ScalarToken):
            if expect_key and stack and stack[-1][0] == "map":
                stack[-1][1] = str(tok.value)
                expect_key = False
                continue
            path = ".".join(str(k) for kind, k in stack if kind == "map" and k is not None)
            if path and tok.value not in NOT_SECRET and is_secret(path):
                out.append(Span(path, tok.start_mark.index, tok.end_mark.index, tok.value))
    return out


_LINE = re.compile(r"^(?P<key>\s*[\w.\-]+\s*[:=]\s*)(?P<value>\S.*?)\s*$", re.MULTILINE)


def _line_spans(text: str, is_secret: Callable[[str], bool]) -> list[Span]:
    """For texts that are not YAML: ``key = value`` / ``key: value`` lines."""
    out = []
    for m in _LINE.finditer(text):
        key = m.group("key").strip().rstrip(":=").strip()
        if m.group("value") not in NOT_SECRET and is_secret(key):
            out.append(Span(key, m.start("value"), m.end("value"), m.group("value")))
    return out


def _replace(text: str, spans: list[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for start, end, new in sorted(spans):
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _numbered(spans: list[Span]) -> dict[tuple[str, int], Span]:
    """Spans by (path, n-th value under that path): list items share a path."""
    seen: dict[str, int] = {}
    out = {}
    for s in spans:
        n = seen.get(s.path, 0)
        seen[s.path] = n + 1
        out[(s.path, n)] = s
    return out


class SecretMask:
    """The server's secret pattern and what it hides."""

    def __init__(self, pattern: str) -> None:
        try:
            self.regex = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"--secret-pattern is not a regular expression: {exc}") from None
        self.text = functools.lru_cache(maxsize=512)(self._text)  # type: ignore[method-assign]

    def is_secret(self, name: str) -> bool:
        return bool(self.regex.search(name.lstrip("+~")))

    # -- reads ------------------------------------------------------------------------
    def _spans(self, text: str) -> list[Span]:
        spans = _yaml_spans(text, self.is_secret)
        return _line_spans(text, self.is_secret) if spans is None else spans

    def text(self, text: str) -> str:  # replaced by a cached _text per instance
        return self._text(text)

    def _text(self, text: str) -> str:
        """A configuration text with secret values replaced, the rest as written."""
        spans = _yaml_spans(text, self.is_secret)
        mask = YAML_MASK
        if spans is None:
            spans, mask = _line_spans(text, self.is_secret), MASK
        return _replace(text, [(s.start, s.end, mask) for s in spans]) if spans else text

    def value(self, name: str, value: Any) -> Any:
        if isinstance(value, str) and value not in NOT_SECRET and self.is_secret(name):
            return MASK
        return value

    def override(self, item: Any) -> Any:
        """``key=value`` (a Hydra override, an argv item) with a secret value masked."""
        if not isinstance(item, str) or "=" not in item:
            return item
        key, _, value = item.partition("=")
        return f"{key}={MASK}" if value and self.is_secret(key) else item

    def command_line(self, text: str) -> str:
        """A shell command line (``shlex.join`` of argv) with secret ``key=value`` words
        masked, a quoted value with spaces whole; text that does not parse as shell words
        is cut after its first secret key (the rest may be its value)."""
        try:
            words = shlex.split(text)
        except ValueError:
            out = []
            for word in text.split(" "):
                masked = self.override(word)
                out.append(masked)
                if masked != word:
                    break
            return " ".join(out)
        shown = [self.override(w) for w in words]
        if shown == words:
            return text
        return " ".join(m if m != w else shlex.quote(w) for w, m in zip(words, shown, strict=True))

    def hyperparams(self, sections: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        return {
            section: {
                name: (
                    {**entry, "value": self.value(name, entry.get("value"))}
                    if isinstance(entry, Mapping)
                    else self.value(name, entry)
                )
                for name, entry in entries.items()
            }
            for section, entries in sections.items()
        }

    def configuration(self, objects: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        return {
            name: {**obj, "value": self.text(str(obj.get("value") or ""))}
            for name, obj in objects.items()
        }

    def columns(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The task list's ``params`` columns: ``{"Section/name": value}``."""
        return {k: self.value(k.partition("/")[2], v) for k, v in params.items()}

    def task(self, task: Mapping[str, Any]) -> dict[str, Any]:
        """A task object (or task-list item) as every reader sees it."""
        out = dict(task)
        if isinstance(out.get("hyperparams"), Mapping):
            out["hyperparams"] = self.hyperparams(out["hyperparams"])
        if isinstance(out.get("configuration"), Mapping):
            out["configuration"] = self.configuration(out["configuration"])
        if isinstance(out.get("params"), Mapping):
            out["params"] = self.columns(out["params"])
        script = out.get("script")
        if isinstance(script, Mapping) and isinstance(script.get("argv"), list):
            out["script"] = {**script, "argv": [self.override(a) for a in script["argv"]]}
        hydra = (
            (out.get("runtime") or {}).get("hydra")
            if isinstance(out.get("runtime"), Mapping)
            else None
        )
        if isinstance(hydra, Mapping):
            hydra = copy.deepcopy(dict(hydra))
            overrides = hydra.get("overrides")
            if isinstance(overrides, Mapping):
                hydra["overrides"] = {
                    k: [self.override(o) for o in v] if isinstance(v, list) else v
                    for k, v in overrides.items()
                }
            if isinstance(hydra.get("command_line"), str):
                hydra["command_line"] = self.command_line(hydra["command_line"])
            out["runtime"] = {**out["runtime"], "hydra": hydra}
        return out

    # -- writes -----------------------------------------------------------------------
    def keep_hyperparams(
        self,
        changes: Mapping[str, Mapping[str, Any]],
        stored: Mapping[str, Mapping[str, Mapping[str, str]]],
    ) -> dict[str, dict[str, Any]]:
        """``changes`` with each secret entry still showing the mask given its stored value."""
        out: dict[str, dict[str, Any]] = {}
        for section, entries in changes.items():
            kept: dict[str, Any] = {}
            for name, entry in entries.items():
                value = entry.get("value") if isinstance(entry, Mapping) else entry
                old = (stored.get(section) or {}).get(name)
                if value == MASK and old is not None and self.is_secret(name):
                    entry = (
                        {**entry, "value": old["value"]}
                        if isinstance(entry, Mapping)
                        else old["value"]
                    )
                kept[name] = entry
            out[section] = kept
        return out

    def keep_text(self, new: str, stored: str | None) -> str:
        """``new`` with each masked secret value put back as ``stored`` has it (same key
        path, same place among that path's values); other text is left as sent."""
        if not stored or MASK not in new:
            return new
        old = _numbered(self._spans(stored))
        back = []
        for key, span in _numbered(self._spans(new)).items():
            if span.value == MASK and key in old:
                back.append((span.start, span.end, stored[old[key].start : old[key].end]))
        return _replace(new, back)


def may_read_secrets(caller: Any, task: Mapping[str, Any]) -> bool:
    """Whether ``caller`` may read ``task`` with its secrets unmasked (``?unmasked=true``).

    The one gate for real values (the permission check guards it): today a key-pair caller
    (agent, SDK, task credential; never the UI's session) for a task that is running, which
    is when its process needs them (the agent gets the claimed task unmasked anyway)."""
    return getattr(caller, "via", None) != "session" and task.get("status") in STATUS_WITH_SECRETS
