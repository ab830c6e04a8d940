"""The error types users see from the generator: each problem names the file, key path and line."""
from __future__ import annotations


class ConfigError(Exception):
    """An invalid environment configuration. Rendered as one line; the CLI exits 2."""

    def __init__(self, file: str, key_path: str, message: str, line: int | None = None):
        self.file = file
        self.key_path = key_path
        self.message = message
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        key = f" [{self.key_path}]" if self.key_path else ""
        return f"{where}{key}: {self.message}"

    @property
    def problems(self) -> list["ConfigError"]:
        """Every problem this error reports (one, unless it is a ConfigErrors)."""
        return [self]


class ConfigErrors(ConfigError):
    """Every problem found in one run, so a user fixes them all at once instead of one per run. Its own
    file, key, line and message are the first problem's; `problems` holds them all (file, key, line each)."""

    def __init__(self, problems: list[ConfigError]):
        self.all = unique_problems(problems)
        first = self.all[0]
        super().__init__(first.file, first.key_path, first.message, first.line)

    def __str__(self) -> str:
        return "; ".join(ConfigError.__str__(p) for p in self.all)

    @property
    def problems(self) -> list[ConfigError]:
        return self.all


def unique_problems(errors: list[ConfigError]) -> list[ConfigError]:
    """The problems of `errors`, flattened, each once (an error of base.yaml is found once per environment)."""
    seen: dict[str, ConfigError] = {}
    for error in errors:
        for problem in error.problems:
            seen.setdefault(ConfigError.__str__(problem), problem)
    return list(seen.values())


def combined(errors: list[ConfigError]) -> ConfigError:
    """One error for `errors` (at least one): itself when there is one problem, else a ConfigErrors."""
    problems = unique_problems(errors)
    return problems[0] if len(problems) == 1 else ConfigErrors(problems)


def grouped_lines(error: ConfigError) -> tuple[str, list[str]]:
    """(a summary, one line per problem) with the problems grouped per file in the order the files first
    appear, by line within a file; each line keeps file, line and key."""
    problems = error.problems
    order = list(dict.fromkeys(p.file for p in problems))
    ranked = sorted(problems, key=lambda p: (order.index(p.file), p.line or 0))
    counts = [f"{file}: {n} problem{'s' if n > 1 else ''}"
              for file, n in ((f, sum(p.file == f for p in problems)) for f in order)]
    return f"{len(problems)} configuration problems ({'; '.join(counts)})", [str(p) for p in ranked]
