"""`gate --path` on Terraform in the shapes other repositories have (tests/policies/fixtures/terraform/):
it never knows less than bare checkov, never passes what it did not read, and the Aegis pack's
findings on third-party code are true positives (what it cannot evaluate is said, not failed)."""
from __future__ import annotations

from pathlib import Path

import pytest

from policies.findings import FAILED, NOT_EVALUATED, PASSED
from policies.gate_result import EXIT_ERROR, EXIT_FAIL
from policies.path_gate import run_path_gate
from policies.scan.registry import builtin_checks, import_checkov

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "terraform"
# Every layout checkov reads: the module root, its example calling it with `source = "../../"`, the
# IAM and object-lock shapes, and the folder whose remote modules are not on disk.
LAYOUTS = ["function_module", "function_module/examples/complete", "iam_shapes", "object_lock", "remote_module"]


def bare_checkov_failures(folder: Path) -> set[tuple[str, str, str, int]]:
    """Bare checkov over `folder`, in this process, offline (no module download, as `--skip-download`):
    its failures as (check id, resource, file name, first line). Only checkov's own checks: the Aegis
    pack, loaded into checkov's registries by earlier gate runs in this process, is left out."""
    import_checkov()
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform.runner import Runner

    builtin = builtin_checks()
    report = Runner().run(root_folder=str(folder.resolve()),
                          runner_filter=RunnerFilter(framework=["terraform"], show_progress_bar=False,
                                                     download_external_modules=False))
    out = set()
    for record in report.failed_checks:
        if record.check_id in builtin:
            resource = record.resource
            if record.check_class.startswith("checkov.terraform.checks.module"):
                resource = f"module.{resource}"  # checkov names a module call by its bare name
            out.add((record.check_id, resource, Path(record.file_abs_path).name, record.file_line_range[0]))
    return out


@pytest.fixture(scope="module")
def judged():
    """Each layout judged once by the gate (checkov costs a second or two per run)."""
    cache: dict[tuple[str, bool], object] = {}

    def get(layout: str, strict: bool = False):
        if (layout, strict) not in cache:
            cache[(layout, strict)] = run_path_gate(FIXTURES / layout, strict=strict)
        return cache[(layout, strict)]

    return get


def by_check(result, check_id: str) -> dict[str, object]:
    return {f.address: f for f in result.findings if f.check_id == check_id}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_gate_failures_include_every_bare_checkov_failure(judged, layout):
    result = judged(layout)
    bare = bare_checkov_failures(FIXTURES / layout)
    assert bare, f"{layout}: bare checkov found nothing to fail: the fixture tests nothing"
    ours = {(f.check_id, f.address, Path(f.file).name, f.line) for f in result.findings if f.status == FAILED}
    missing = sorted(bare - ours)
    assert not missing, f"{layout}: bare checkov failures the gate does not report: {missing}"


def test_example_calling_its_module_root_is_judged_with_both_locations(judged):
    result = judged("function_module/examples/complete")
    assert result.exit_code == EXIT_FAIL, result.errors
    tracing = by_check(result, "CKV_AWS_50")
    # Three function instances (the fourth has create = false, count 0): one finding each.
    assert set(tracing) == {f"module.{m}.aws_lambda_function.this[0]" for m in ("ingest", "transform", "publish")}
    calls = {address: (f.file, f.line, f.caller_file, f.caller_line) for address, f in tracing.items()}
    assert calls["module.ingest.aws_lambda_function.this[0]"] == ("main.tf", 62, "examples/complete/main.tf", 5)
    assert calls["module.transform.aws_lambda_function.this[0]"][2:] == ("examples/complete/main.tf", 12)
    assert calls["module.publish.aws_lambda_function.this[0]"][2:] == ("examples/complete/main.tf", 20)
    assert not any(f.file.startswith(("/", "..")) for f in result.findings)


def test_unresolved_remote_modules_do_not_pass(judged):
    result = judged("remote_module")
    assert result.exit_code == EXIT_ERROR
    assert any("module.eks (terraform-aws-modules/eks/aws) at main.tf:5" in e and "module.network" in e
               for e in result.errors), result.errors
    # What was read is still reported: checkov's module checks among it.
    assert {a for a, f in by_check(result, "CKV_TF_1").items() if f.status == FAILED} == {"module.eks",
                                                                                           "module.network"}


def test_a_file_checkov_skips_does_not_pass(judged):
    result = judged("hidden_folder")
    assert result.exit_code == EXIT_ERROR
    assert any(".deploy/buckets.tf" in e and "dot-folders" in e for e in result.errors), result.errors


def test_zero_checks_run_does_not_pass(judged):
    result = judged("unchecked")
    assert result.exit_code == EXIT_ERROR
    assert result.errors == ["no check applied to any resource, data source, provider or module: nothing was judged"]


def test_human_persona_check_judges_only_roles_people_can_assume(judged):
    mfa = by_check(judged("iam_shapes"), "CKV_AEGIS_12")
    assert "aws_iam_role.cluster" not in mfa  # only eks.amazonaws.com may assume it: not a human role
    assert mfa["aws_iam_role.operator"].status == FAILED  # the account, without MFA
    assert "without MFA" in mfa["aws_iam_role.operator"].why
    assert mfa["aws_iam_role.breakglass"].status == PASSED  # the account, with MFA
    function_roles = by_check(judged("function_module/examples/complete"), "CKV_AEGIS_12")
    assert not function_roles  # lambda.amazonaws.com only, through an aws_iam_policy_document


def test_policy_documents_are_resolved_before_iam_is_judged(judged):
    wildcard = by_check(judged("iam_shapes"), "CKV_AEGIS_9")
    assert wildcard["aws_iam_policy.everything"].status == FAILED
    assert "'*' action" in wildcard["aws_iam_policy.everything"].why
    assert wildcard["aws_iam_policy.read_models"].status == PASSED


def test_a_pack_failure_repeating_a_failing_builtin_is_dropped(judged):
    result = judged("iam_shapes")
    assert by_check(result, "CKV_AWS_63")["aws_iam_policy.admin_inline"].status == FAILED
    assert "aws_iam_policy.admin_inline" not in by_check(result, "CKV_AEGIS_9")


def test_what_the_pack_cannot_evaluate_is_shown_not_failed(judged):
    result = judged("iam_shapes")
    boundary = by_check(result, "CKV_AEGIS_11")
    assert boundary["aws_iam_role.cluster"].status == NOT_EVALUATED  # permissions_boundary = var.…
    assert "var.permissions_boundary" in boundary["aws_iam_role.cluster"].why
    assert boundary["aws_iam_role.operator"].status == PASSED
    assert not boundary["aws_iam_role.cluster"].blocking
    lock = by_check(judged("object_lock"), "CKV_AEGIS_18")
    assert lock["aws_s3_bucket_object_lock_configuration.audit[0]"].status == NOT_EVALUATED  # count from try(var…)
    assert lock["aws_s3_bucket_object_lock_configuration.models"].status == FAILED  # literal, no retention


def test_strict_mode_fails_what_could_not_be_evaluated(judged):
    boundary = by_check(judged("iam_shapes", strict=True), "CKV_AEGIS_11")["aws_iam_role.cluster"]
    assert boundary.status == FAILED and boundary.blocking


def test_checks_resting_on_aegis_naming_do_not_run_on_third_party_code(judged):
    result = judged("function_module")
    assert by_check(result, "CKV_AWS_158")  # the log groups are judged by checkov …
    assert not by_check(result, "CKV_AEGIS_14")  # … but not against Aegis's audit-key naming


def test_cli_exit_codes_on_the_examples_layout(tmp_path):
    from click.testing import CliRunner

    from main import cli

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["gate", *args, "--out", str(tmp_path / "r"), "--format", "json"],
                                  catch_exceptions=False)

    example = str(FIXTURES / "function_module" / "examples" / "complete")
    assert invoke("--path", example).exit_code == EXIT_FAIL
    strict = invoke("--path", example, "--strict")
    assert strict.exit_code == EXIT_FAIL and "not evaluated" not in strict.output
    lonely = invoke("--strict")
    assert lonely.exit_code == EXIT_ERROR and "--strict applies to --path" in lonely.output
