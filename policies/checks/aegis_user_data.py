"""Reading EC2 user data for the checks that judge what an instance runs at boot (not a check itself).

CDKTF writes a launch template's user data as `${base64encode("<script>")}`, the script escaped for
a Terraform string with its references left inside as `${...}`; hand-written Terraform may give
plain base64 or the script itself. `script` returns the text, or None when it cannot be read (a
file, a template, another expression), which the checks fail closed on. `container_runs` finds the
containers the script starts (`docker|podman|nerdctl [container] run …`), each as its arguments
after `run`, with the image picked out by skipping the options (and their values).
Like aegis_checklib, it imports nothing of Aegis, so the folder also works under plain checkov.
"""
from __future__ import annotations

import base64
import binascii
import re
import shlex
from dataclasses import dataclass

_BASE64ENCODE = re.compile(r'^\$\{base64encode\("(.*)"\)\}$', re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_RUNTIMES = ("docker", "podman", "nerdctl")
# Options of `docker run` that take a value as the next argument (`--opt=value` is one argument).
_VALUED = frozenset((
    "-a", "--attach", "--add-host", "--blkio-weight", "--cap-add", "--cap-drop", "--cgroup-parent", "--cgroupns",
    "--cidfile", "--cpu-period", "--cpu-quota", "--cpu-shares", "-c", "--cpus", "--cpuset-cpus", "--cpuset-mems",
    "--detach-keys", "--device", "--dns", "--dns-option", "--dns-search", "--domainname", "-e", "--env",
    "--entrypoint", "--env-file", "--expose", "--gpus", "--group-add", "--health-cmd", "--health-interval",
    "--health-retries", "--health-start-period", "--health-timeout", "-h", "--hostname", "--ip", "--ip6", "--ipc",
    "--isolation", "-l", "--label", "--label-file", "--link", "--log-driver", "--log-opt", "--mac-address", "-m",
    "--memory", "--memory-reservation", "--memory-swap", "--mount", "--name", "--net", "--network",
    "--network-alias", "--pid", "--pids-limit", "--platform", "-p", "--publish", "--pull", "--restart",
    "--runtime", "--security-opt", "--shm-size", "--stop-signal", "--stop-timeout", "--storage-opt", "--sysctl",
    "--tmpfs", "-u", "--user", "--ulimit", "--userns", "--uts", "-v", "--volume", "--volume-driver",
    "--volumes-from", "-w", "--workdir"))


@dataclass(frozen=True)
class ContainerRun:
    args: tuple[str, ...]  # everything after `run`
    image: str | None  # None: the arguments could not be parsed into options and an image

    @property
    def options(self) -> tuple[str, ...]:
        if self.image is None:
            return self.args
        return self.args[:self.args.index(self.image)]

    def option_values(self, *names: str) -> list[str]:
        """Values of the given options, in either spelling (`--opt value`, `--opt=value`)."""
        out, opts = [], self.options
        for i, arg in enumerate(opts):
            name, eq, value = arg.partition("=")
            if name in names:
                out.append(value if eq else (opts[i + 1] if i + 1 < len(opts) else ""))
        return out

    @property
    def host_network(self) -> bool:
        return "host" in self.option_values("--network", "--net")


def script(raw: object) -> str | None:
    """The user-data script, or None when it is not a literal this can read."""
    if not isinstance(raw, str):
        return None
    match = _BASE64ENCODE.match(raw.strip())
    if match:
        return _unescape(match.group(1))
    if "${" in raw:
        return None
    if raw.lstrip().startswith("#"):
        return raw
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _unescape(text: str) -> str | None:
    """A Terraform quoted string's text; None when it holds an unescaped quote (another expression)."""
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text) or text[i + 1] not in _ESCAPES:
                return None
            out.append(_ESCAPES[text[i + 1]])
            i += 2
        elif char == '"':
            return None
        elif text.startswith(("$${", "%%{"), i):
            out.append(text[i + 1:i + 3])
            i += 3
        else:
            out.append(char)
            i += 1
    return "".join(out)


def container_runs(text: str) -> list[ContainerRun]:
    runs = []
    for line in text.replace("\\\n", " ").splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        for i, word in enumerate(words):
            if word.rsplit("/", 1)[-1] not in _RUNTIMES:
                continue
            rest = words[i + 1:]
            if rest[:2] == ["container", "run"]:
                rest = rest[1:]
            if rest[:1] == ["run"]:
                runs.append(ContainerRun(tuple(rest[1:]), _image(rest[1:])))
            break
    return runs


def _image(args: list[str]) -> str | None:
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[i + 1] if i + 1 < len(args) else None
        if not arg.startswith("-"):
            return arg
        i += 2 if arg in _VALUED else 1
    return None
