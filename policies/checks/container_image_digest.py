"""CKV_AEGIS_40: container images are referenced by digest, never by tag.

A tag is a name someone can point elsewhere (or that does not exist yet): a model pulled by
`repo:1.4.0` runs whatever the tag names when an instance starts, not what was reviewed, and the
plan cannot show it. A digest (`repo@sha256:…`) names exactly one image, so what runs is what was
verified, and it is provenance in the plan itself. Judged: SageMaker model containers, Lambda
`image_uri`, and the images a launch template's user data runs (`docker|podman|nerdctl run`).
Accepted: a literal `@sha256:<64 hex>`, or the digest of a `data.aws_ecr_image` lookup resolved
when the stack is planned (`@${data.aws_ecr_image.<name>.image_digest}`; AEGIS_SERVING_INPUTS_VERIFIED
judges that lookup). User data that cannot be read fails (not judged); a launch template that runs
no container is not judged (UNKNOWN). Not environment-dependent.
"""
import re

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, blocks, is_reference, value
    from policies.checks.aegis_user_data import container_runs, script
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, blocks, is_reference, value
    from aegis_user_data import container_runs, script

BY_DIGEST = re.compile(r"@(sha256:[0-9a-f]{64}|\$\{data\.aws_ecr_image\.[A-Za-z0-9_-]+\.(image_digest|id)\})$")


UNREADABLE = "user_data is not a literal script this check can read: its images"


def _whole_reference(image: object) -> bool:
    """An image given by a reference alone (HCL `var.image_uri`, JSON `${var.image}`): no tag or digest to see."""
    if not isinstance(image, str) or not is_reference(image):
        return False
    return "${" not in image or not re.sub(r"\$\{[^}]*\}", "", image).strip()


class ContainerImageDigest(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_40", "Container images are referenced by digest, never by tag",
            ["aws_sagemaker_model", "aws_lambda_function", "aws_launch_template"],
            [CheckCategories.SUPPLY_CHAIN, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        images, problem = self._images(conf)
        if problem == UNREADABLE:
            return self.unreadable(value(conf, "user_data"), problem)
        if problem:
            return self.fail(problem)
        if images is None:
            return self.not_applicable()
        for where, image in images:
            if _whole_reference(image):  # `var.image_uri`: no tag or digest to see (`${repo}:latest` has one)
                return self.not_evaluated(f"{where} runs {image}, which this check cannot resolve")
            if not isinstance(image, str) or not BY_DIGEST.search(image.strip()):
                return self.fail(f"{where} runs {image!r}, not an image by digest (@sha256:…): a tag can name "
                                 "another image, or none, by the time it is pulled")
        return CheckResult.PASSED

    def _images(self, conf) -> tuple[list[tuple[str, object]] | None, str | None]:
        if self.entity_type == "aws_sagemaker_model":
            self.evaluated_keys = ["primary_container", "container"]
            containers = blocks(conf, "primary_container") + blocks(conf, "container")
            found = [("the container", value(c, "image")) for c in containers if value(c, "image") is not None]
            return found or None, None
        if self.entity_type == "aws_launch_template":
            self.evaluated_keys = ["user_data"]
            raw = value(conf, "user_data")
            if raw is None:
                return None, None
            text = script(raw)
            if text is None:
                return None, UNREADABLE
            runs = container_runs(text)
            if any(run.image is None for run in runs):
                return None, "a container run in user_data names no image this check can find"
            return [("user_data", run.image) for run in runs] or None, None
        self.evaluated_keys = ["image_uri"]  # aws_lambda_function
        uri = value(conf, "image_uri")
        return ([("the function", uri)] if uri is not None else None), None


check = ContainerImageDigest()
