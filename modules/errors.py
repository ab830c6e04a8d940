"""The one error type users see from the generator: it names the file, key path and line."""
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
