"""Problems with a mapping file, each tied to its file and line."""

from __future__ import annotations

from dataclasses import dataclass

from qbsf.errors import ConfigError


@dataclass(frozen=True, slots=True)
class MappingProblem:
    """One fault in a mapping file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class MappingFileError(ConfigError):
    """A mapping file was rejected; ``problems`` lists every fault, each with its file, line and fix."""

    def __init__(self, problems: list[MappingProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))
