"""The lazy provider loader must give byte-identical output to the eager import, and stay lazy."""
from __future__ import annotations

import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_eager_import_gives_identical_output_and_cli_default_honours_cdktf_outdir(synthesized, tmp_path):
    # `python main.py` with no argument is what `cdktf synth` runs: it must honour CDKTF_OUTDIR.
    out = tmp_path / "eager.out"
    # An empty cache of its own: a cache hit would skip the eager synth this test is about.
    env = dict(os.environ, AEGIS_EAGER_PROVIDER="1", CDKTF_OUTDIR=str(out), AEGIS_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "!!!!" not in result.stderr and "end-of-life" not in result.stderr  # no jsii banner
    lazy = {p.relative_to(synthesized.out): p.read_bytes() for p in synthesized.out.rglob("*") if p.is_file()}
    eager = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert lazy.keys() == eager.keys()
    assert [str(k) for k in lazy if lazy[k] != eager[k]] == []
    assert len(result.stdout.strip().splitlines()) == 15  # one line per stack written
    assert "synth: cache miss" in result.stderr


def test_lazy_loader_imports_only_used_submodules(synthesized):
    from modules import aws

    assert not aws.eager()
    package = sys.modules[aws.PACKAGE]
    loaded = [name for name in sys.modules if name.startswith(aws.PACKAGE + ".")]
    # The eager import loads ~2,200 submodules; the app needs a small fraction of them
    # (each used submodule also loads its `_private` module, so this counts two per resource type).
    assert 0 < len(loaded) < 400
    assert not hasattr(package, "__all__")  # the package's own __init__ never ran


def test_a_wrong_argument_type_is_refused_by_the_kernel_without_the_python_pass(synthesized, tmp_path):
    """The bindings' Python type pass is off by default (modules/aws.py): the jsii kernel still refuses
    the value before anything is synthesized, naming the key and the expected type."""
    import cdktf
    import pytest

    from modules import aws

    assert not aws.python_type_checks()
    assert aws.cloudwatch_log_group._private.check_type is aws._checked_by_the_kernel
    stack = cdktf.TerraformStack(cdktf.App(outdir=str(tmp_path)), "probe")
    with pytest.raises(RuntimeError, match=r"(?s)Key 'retentionInDays'.*Value is not a number"):
        aws.cloudwatch_log_group.CloudwatchLogGroup(stack, "logs", retention_in_days="thirty")
    with pytest.raises(RuntimeError, match=r"(?s)Key 'tags'.*Value is an array"):
        aws.cloudwatch_log_group.CloudwatchLogGroup(stack, "tagged", tags=["a"])
    aws.cloudwatch_log_group.CloudwatchLogGroup(stack, "fine", retention_in_days=30, tags={"a": "b"})  # accepted
    # Nor is any signature's annotation resolved for a check that does not run.
    hints = aws.cloudwatch_log_group._private.typing.get_type_hints(aws.cloudwatch_log_group.CloudwatchLogGroup)
    assert hints["retention_in_days"] is hints["no such argument"] is typing.Any


def test_the_core_bindings_leave_type_checks_to_the_kernel_too(synthesized, tmp_path):
    """cdktf and constructs run the same Python pass on every lifecycle block, condition, output and
    construct; it is off with the provider's, and the kernel refuses a wrong value there as well."""
    import cdktf
    import constructs
    import pytest

    from modules import aws

    aws.submodule("cloudwatch_log_group")
    assert cdktf._private.check_type is aws._checked_by_the_kernel
    assert constructs._private.check_type is aws._checked_by_the_kernel
    stack = cdktf.TerraformStack(cdktf.App(outdir=str(tmp_path)), "probe")
    with pytest.raises(RuntimeError, match=r"(?s)Key 'sensitive'.*boolean"):
        cdktf.TerraformOutput(stack, "out", value="x", sensitive="yes")
    with pytest.raises(RuntimeError, match=r"(?s)Key 'lifecycle'.*TerraformResourceLifecycle"):
        aws.cloudwatch_log_group.CloudwatchLogGroup(
            stack, "logs", lifecycle=cdktf.TerraformResourceLifecycle(prevent_destroy="yes"))
    cdktf.TerraformOutput(stack, "fine", value="x", sensitive=True)  # accepted


def test_the_python_type_pass_can_be_kept_and_its_hints_are_computed_once():
    """AEGIS_BINDING_TYPE_CHECKS=1: typeguard runs as in the stock bindings (the error names the Python
    argument), on type hints computed once per signature."""
    probe = """
import typing
from modules import aws
private = aws.cloudwatch_log_group._private
assert private.typing is not typing and private.typing.Optional is typing.Optional
assert private.check_type is not aws._checked_by_the_kernel
try:
    aws.cloudwatch_log_group.CloudwatchLogGroupConfig(retention_in_days="thirty")
except TypeError as exc:
    print("refused:", exc)
stub = next(v for k, v in vars(private).items() if k.startswith("_typecheckingstub__")
            and set(typing.get_type_hints(v)) >= {"retention_in_days", "kms_key_id"})
assert private.typing.get_type_hints(stub) is private.typing.get_type_hints(stub)
print("ok")
"""
    env = dict(os.environ, AEGIS_BINDING_TYPE_CHECKS="1")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "refused: type of argument retention_in_days must be one of" in done.stdout
    assert done.stdout.strip().endswith("ok")


def test_tokens_carry_no_javascript_stack_trace_unless_asked():
    """token_traces.js: cdktf's per-token stack trace (kernel frames only, under jsii) is not captured;
    AEGIS_TOKEN_STACK_TRACES=1 keeps it. The output is unchanged either way (the eager test above runs
    on plain Node)."""
    probe = "import modules\nfrom cdktf import Token\nprint(len(Token.as_any('abc').creation_stack))\n"
    frames = {}
    for keep in ("", "1"):
        env = dict(os.environ, AEGIS_TOKEN_STACK_TRACES=keep)
        done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        frames[keep] = int(done.stdout.strip().splitlines()[-1])
    assert frames[""] == 0 and frames["1"] > 0


def test_node_options_keep_the_users_and_add_the_preloads_once():
    import modules

    lazy = modules._LAZY_PROVIDER
    traces, pipes, messages = (modules._require(name) for name in
                               ("token_traces.js", "kernel_pipes.js", "kernel_messages.js"))
    assert modules._node_options("--max-old-space-size=4096", eager=False) == \
        f"--max-old-space-size=4096 {lazy} {traces} {pipes} {messages}"
    again = modules._node_options(f"{lazy} --trace-warnings {messages} {pipes} {traces}", eager=False)
    assert [again.count(preload) for preload in (lazy, traces, pipes, messages)] == [1, 1, 1, 1]
    assert "--trace-warnings" in again
    assert modules._node_options(f"{lazy} {traces} {pipes} {messages}", eager=True) == ""
    assert modules._node_options("", eager=False, left_out=frozenset({"kernel_pipes.js", "token_traces.js"})) == \
        f"{lazy} {messages}"
    assert set(modules._KERNEL_CUTS.values()) == \
        {"AEGIS_TOKEN_STACK_TRACES", "AEGIS_JSII_RELAY", "AEGIS_EAGER_KERNEL_MESSAGES"}


# Prints what the kernel's fds 3 and 4 are, and the pipes Python writes requests to and reads answers from.
_CHANNEL_PROBE = """
import os, subprocess
import modules
from cdktf import App
App()  # starts the kernel
from jsii._runtime import kernel
node = kernel.provider._process._process
child = subprocess.run(["pgrep", "-P", str(node.pid)], capture_output=True, text=True).stdout.split()[0]
pipe = lambda f: f"pipe:[{os.fstat(f.fileno()).st_ino}]"
print(os.readlink(f"/proc/{child}/fd/3"), os.path.exists(f"/proc/{child}/fd/4") and os.readlink(f"/proc/{child}/fd/4"))
print(pipe(node.stdin), pipe(node.stdout))
# jsii's kernel reads and writes synchronously: its descriptors must block (flags in octal on fdinfo's 2nd line)
print(*(bool(int(open(f"/proc/{child}/fdinfo/{fd}").read().splitlines()[1].split()[1], 8) & os.O_NONBLOCK)
        for fd in (3, 4) if os.path.exists(f"/proc/{child}/fd/{fd}")))
"""


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads the kernel's descriptors from /proc")
def test_the_kernel_reads_and_answers_on_pythons_pipes_unless_the_relay_is_asked_for():
    """kernel_pipes.js: the kernel's fd 3 is the pipe Python writes requests to and its fd 4 the pipe
    Python reads answers from (no relay in between); AEGIS_JSII_RELAY=1 keeps jsii's relayed socket."""
    channels = {}
    for relay in ("", "1"):
        env = dict(os.environ, AEGIS_JSII_RELAY=relay)
        done = subprocess.run([sys.executable, "-c", _CHANNEL_PROBE], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        kernel_side, python_side, non_blocking = done.stdout.strip().splitlines()[-3:]
        channels[relay] = (kernel_side.split(), python_side.split(), non_blocking.split())
    kernel_side, python_side, non_blocking = channels[""]
    assert kernel_side == python_side and non_blocking == ["False", "False"]
    kernel_side, python_side, _ = channels["1"]
    assert kernel_side[0].startswith("socket:") and kernel_side[1] != python_side[1]


def test_the_kernel_cuts_left_out_synthesize_the_same_bytes(synthesized, tmp_path):
    """The whole default app with every kernel cut left out (token traces kept, jsii's relay, eager assertion
    messages; the lazy provider index still on) gives the bytes the shared fixture got with them all."""
    import modules

    out = tmp_path / "without-cuts.out"
    env = dict(os.environ, **{variable: "1" for variable in modules._KERNEL_CUTS.values()},
               AEGIS_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "main.py", "synth", "--out", str(out)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    with_cuts = {p.relative_to(synthesized.out): p.read_bytes() for p in synthesized.out.rglob("*") if p.is_file()}
    without_cuts = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert with_cuts.keys() == without_cuts.keys()
    assert [str(k) for k in with_cuts if with_cuts[k] != without_cuts[k]] == []


def test_structs_reach_the_kernel_as_their_typed_getters_would_send_them(synthesized):
    """modules/aws.py serializes a struct from its fields, not through its typed getters: the request is
    jsii's own (nested structs, lists, maps, unset fields), and jsii's own function serves anything else.
    The whole app's output equals the stock serialization's too (the eager synth above runs it)."""
    import cdktf
    import jsii._kernel as jsii_kernel

    from modules import aws

    lt = aws.launch_template
    assert jsii_kernel._make_reference_for_native is aws._reference_for_native
    values = [
        lt.LaunchTemplateConfig(
            name="fleet", tags={"Model": "m"}, update_default_version=True,
            block_device_mappings=[lt.LaunchTemplateBlockDeviceMappings(
                device_name="/dev/xvda", ebs=lt.LaunchTemplateBlockDeviceMappingsEbs(volume_size=200, encrypted="true"))],
            lifecycle=cdktf.TerraformResourceLifecycle(
                ignore_changes=["tags"], precondition=[cdktf.Precondition(condition="${true}", error_message="never")])),
        {"plain": ["a", 1, 2.5, None, True, {"nested": lt.LaunchTemplateMonitoring(enabled=True)}]},
    ]
    for value in values:
        sent = aws._reference_for_native(None, value)
        assert sent == aws._stock_reference_for_native(None, value)
    assert sent["$jsii.map"]["plain"][5]["$jsii.map"]["nested"] == {
        "$jsii.struct": {"fqn": "@cdktf/provider-aws.launchTemplate.LaunchTemplateMonitoring", "data": {"enabled": True}}}


# Runs jsii's kernel source and a function of the same shape through kernel_messages.js's rewrite.
_MESSAGE_PROBE = r"""
const fs = require('fs');
const assert = require('assert');
const util = require('util');
const { lazyMessage } = require(process.argv[2]);
const kernel = fs.readFileSync(process.argv[3], "utf8");
const shape = 'function lookup(e){if((0,B.default)(null!=e,`Kernel error: expected type information, got ' +
  '${(0,K.inspect)(e)}`),"void"===e)return"Void";return"Other"}';
let formatted = 0;
const K = { inspect: (value) => { formatted += 1; return util.inspect(value); } };
const outcome = (source, value) => {
  const lookup = new Function('B', 'K', `${source}; return lookup;`)({ default: assert }, K);
  formatted = 0;
  try { return [lookup(value), formatted]; } catch (error) { return [`${error.name}: ${error.message}`, formatted]; }
};
const rewritten = lazyMessage(shape);
console.log(JSON.stringify({
  kernel: [kernel.length, lazyMessage(kernel).length, lazyMessage(kernel) === kernel],
  ok: [outcome(shape, { type: 'x' }), outcome(rewritten, { type: 'x' })],
  missing: [outcome(shape, undefined), outcome(rewritten, undefined)],
  void: [outcome(shape, 'void'), outcome(rewritten, 'void')],
}));
"""


def test_the_kernel_formats_a_type_assertion_message_only_when_it_fails(tmp_path):
    """kernel_messages.js: jsii's kernel has the eager expression once and loses only that; a lookup of that
    shape answers the same, throws the same error with the same message, and formats nothing unless it fails."""
    import json
    from importlib import resources

    kernel = resources.files("jsii._embedded.jsii") / "lib__program.js"
    probe = tmp_path / "probe.js"
    probe.write_text(_MESSAGE_PROBE)
    done = subprocess.run(["node", str(probe), str(ROOT / "modules" / "kernel_messages.js"), str(kernel)],
                          env=dict(os.environ, NODE_OPTIONS=""), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    before, after, same = result["kernel"]
    # One expression rewritten: `(null!=e||(0,B.default)(!1,MSG))` is six characters longer than
    # `(0,B.default)(null!=e,MSG)`, whatever the minified names.
    assert not same and after - before == 6
    assert result["ok"] == [["Other", 1], ["Other", 0]]
    assert result["void"] == [["Void", 1], ["Void", 0]]
    eager, lazy = result["missing"]
    assert eager == lazy and eager[0].startswith("AssertionError") and "got undefined" in eager[0]


def test_a_relay_left_as_jsii_wrote_it_never_hands_its_kernel_the_pipes_flag(tmp_path):
    """kernel_pipes.js: where the relay keeps its socket (a runtime it does not recognise, or Windows), a flag
    the caller's environment carries must not reach the kernel, which would wait on pipes that never come."""
    relay = tmp_path / "bin" / "jsii-runtime.js"
    relay.parent.mkdir()
    relay.write_text("process.stdout.write(String(process.env.AEGIS_KERNEL_PIPES));\n")
    env = dict(os.environ, AEGIS_KERNEL_PIPES="1")
    done = subprocess.run(["node", "-r", str(ROOT / "modules" / "kernel_pipes.js"), str(relay)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "undefined"
