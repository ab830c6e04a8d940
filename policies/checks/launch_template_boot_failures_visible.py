"""CKV_AEGIS_42: a launch template's boot script stops at a failure and says so.

A boot script that ignores failures serves from a half-configured instance; one under `set -e`
alone stops at the first failure without a word (cloud-init's log on an instance nobody logs in
to), and the instance just never turns healthy. So a shell user-data script must stop on errors
(`set -e`, or `set -o errexit`) and trap ERR (or EXIT) to report the failed step. It must also
not mount EFS with amazon-efs-utils (`mount -t efs`) without first checking that `mount.efs` is
installed: many AMIs lack it, and in a VPC without egress nothing can install it at boot.
User data that cannot be read fails (not judged); cloud-config and templates without user data
are not judged (UNKNOWN). Not environment-dependent.
"""
import re

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, value
    from policies.checks.aegis_user_data import script
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, value
    from aegis_user_data import script

ERREXIT = re.compile(r"^\s*set\s+(-[A-Za-z]*e[A-Za-z]*\b|.*-o\s+errexit\b)", re.MULTILINE)
TRAP = re.compile(r"^\s*trap\s+.+\s(ERR|EXIT)\b", re.MULTILINE)
EFS_MOUNT = re.compile(r"\bmount\s+(-\S+\s+)*-t\s+efs\b|\bmount\.efs\b")
EFS_UTILS_CHECK = re.compile(r"\b(command\s+-v|which|type)\s+mount\.efs\b|-x\s+/s?bin/mount\.efs\b")


class LaunchTemplateBootFailuresVisible(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_42", "Launch template boot script stops at a failure, reports it, and checks for efs-utils",
            ["aws_launch_template"], [CheckCategories.LOGGING, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        self.evaluated_keys = ["user_data"]
        raw = value(conf, "user_data")
        if raw is None:
            return self.not_applicable()
        text = script(raw)
        if text is None:
            return self.unreadable(raw, "user_data is not a literal script this check can read: its failures")
        if text.lstrip().startswith("#cloud-config"):
            return self.not_applicable()
        if not ERREXIT.search(text):
            return self.fail("the boot script carries on after a failed step: use set -Eeuo pipefail with an ERR trap")
        if not TRAP.search(text):
            return self.fail("set -e ends the boot script at the first failure without a word: trap ERR and report "
                             "the failed line where someone will see it")
        mount = EFS_MOUNT.search(text)
        if mount:
            checked = EFS_UTILS_CHECK.search(text)
            if checked is None or checked.start() > mount.start():
                return self.fail("the boot script mounts EFS with amazon-efs-utils without first checking that "
                                 "mount.efs is installed (many AMIs lack it)")
        return CheckResult.PASSED


check = LaunchTemplateBootFailuresVisible()
