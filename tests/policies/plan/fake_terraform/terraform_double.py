"""TEST DOUBLE: a stand-in for the `terraform` executable, used only by tests/policies/plan.

It is not Terraform and deploys nothing. It records every invocation and plays back plan
fixtures, so the plan/apply orchestration can be tested offline:

- `version [-json]`: reports $FAKE_TERRAFORM_VERSION (default 1.10.5).
- `init …`: creates `.terraform/` in the working directory.
- `plan … -out=FILE`: needs `.terraform/`; writes FILE, a small binary "plan" naming the stack
  and the fixture it will show (the fixture is $FAKE_TERRAFORM_PLANS/<stack>.json, else
  default.json there; the stack is the working directory's name).
- `show -json FILE`: prints the fixture FILE names, bytes unchanged (a FILE that is not such a
  "plan" fails, as terraform does); records the SHA-256 of FILE's bytes (what it showed).
- `apply … FILE`: needs `.terraform/`; records the SHA-256 of FILE's bytes (what it "applied").

Every call appends one JSON line to $FAKE_TERRAFORM_LOG: {"cwd": <dir name>, "args": [...],
"applied_sha256" / "shown_sha256": ...}. $FAKE_TERRAFORM_FAIL="plan:dev-data,apply" makes the named command fail
(exit 1), in one stack or in all.
"""
import hashlib
import json
import os
import sys

MAGIC = b"FAKE-TFPLAN/1\n"


def log(entry):
    path = os.environ.get("FAKE_TERRAFORM_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")


def fails(command, stack):
    for item in filter(None, os.environ.get("FAKE_TERRAFORM_FAIL", "").split(",")):
        name, _, where = item.partition(":")
        if name == command and (not where or where == stack):
            return True
    return False


def fixture(stack):
    folder = os.environ.get("FAKE_TERRAFORM_PLANS", "")
    for name in (stack + ".json", "default.json"):
        path = os.path.join(folder, name)
        if folder and os.path.isfile(path):
            return path
    sys.stderr.write("fake terraform: no plan fixture for %s in $FAKE_TERRAFORM_PLANS\n" % stack)
    sys.exit(1)


def main(argv):
    cwd = os.getcwd()
    stack = os.path.basename(cwd)
    command = argv[0] if argv else ""
    entry = {"cwd": stack, "args": argv}
    if command == "version":
        version = os.environ.get("FAKE_TERRAFORM_VERSION", "1.10.5")
        if "-json" in argv:
            print(json.dumps({"terraform_version": version, "platform": "linux_amd64",
                              "provider_selections": {}, "terraform_outdated": False}))
        else:
            print("Terraform v" + version)
        return 0
    if command in ("apply", "show") and argv and os.path.isfile(argv[-1]):
        with open(argv[-1], "rb") as handle:
            entry["applied_sha256" if command == "apply" else "shown_sha256"] = hashlib.sha256(handle.read()).hexdigest()
    log(entry)
    if fails(command, stack):
        sys.stderr.write("fake terraform: %s failed in %s (FAKE_TERRAFORM_FAIL)\n" % (command, stack))
        return 1
    if command == "init":
        os.makedirs(os.path.join(cwd, ".terraform"), exist_ok=True)
        return 0
    if command in ("plan", "apply") and not os.path.isdir(os.path.join(cwd, ".terraform")):
        sys.stderr.write("fake terraform: not initialized (run init)\n")
        return 1
    if command == "plan":
        out = [a.split("=", 1)[1] for a in argv if a.startswith("-out=")]
        if not out:
            sys.stderr.write("fake terraform: plan needs -out=FILE\n")
            return 1
        source = fixture(stack)
        with open(source, "rb") as handle:
            content = handle.read()
        body = json.dumps({"stack": stack, "fixture": source, "sha256": hashlib.sha256(content).hexdigest()})
        with open(out[0], "wb") as handle:
            handle.write(MAGIC + body.encode("utf-8") + b"\n")
        return 0
    if command == "show":
        with open(argv[-1], "rb") as handle:
            data = handle.read()
        if not data.startswith(MAGIC):
            sys.stderr.write("fake terraform: not a plan file\n")
            return 1
        meta = json.loads(data[len(MAGIC):].decode("utf-8"))
        with open(meta["fixture"], "rb") as handle:
            sys.stdout.buffer.write(handle.read())
        return 0
    if command == "apply":
        with open(argv[-1], "rb") as handle:
            data = handle.read()
        return 0 if data.startswith(MAGIC) else 1
    sys.stderr.write("fake terraform: unsupported command %r\n" % command)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
