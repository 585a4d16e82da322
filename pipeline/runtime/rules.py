"""Rule data: YAML files under `rules/<stage>/`, versioned, loaded and validated at start.

A stage describes its rule file with a pydantic model and loads it here. A file that is not
valid YAML, or not what the model says, stops the worker with the file and the line of the
problem: half a rule set would decide cases silently wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.runtime.stage import SetupError

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


class RuleSet(BaseModel):
    """What every rule file has: the version of its rules, recorded on every verdict."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str


_Rules = TypeVar("_Rules", bound=BaseModel)


class RuleFileError(SetupError):
    """A rule file that cannot be used, with where the problem is."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path, self.line, self.problem = path, line, problem


def load_rules(path: Path, model: type[_Rules]) -> _Rules:
    """The rule file at `path`, validated by `model`."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except OSError as error:
        raise RuleFileError(path, None, f"cannot be read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise RuleFileError(path, None, "is not UTF-8") from None
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise RuleFileError(path, line, f"is not valid YAML: {error.problem}") from None
    try:
        return model.model_validate(document)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        location = ".".join(str(part) for part in first["loc"]) or "(file)"
        line = _line_of(root, first["loc"])
        raise RuleFileError(path, line, f"{location}: {first['msg']}") from None


def stage_rules(stage: str, name: str, model: type[_Rules], root: Path = RULES_DIR) -> _Rules:
    return load_rules(root / stage / name, model)


def _line_of(node: Any, loc: tuple[int | str, ...]) -> int | None:
    """The line of the deepest YAML node that `loc` (a pydantic error location) reaches."""
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
            if child is None:  # a missing key: point at the mapping that lacks it
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            return line
        node, line = child, child.start_mark.line + 1
    return line
