

def test_policy_document_unwraps_plan_mode_list():
    """In terraform_plan mode checkov passes a policy as [parsed dict]; it must be judged, not skipped."""
    from policies.checks.aegis_checklib import policy_document

    doc = {"Version": "2012-10-17", "Statement": []}
    assert policy_document([doc]) == doc
    assert policy_document(['{"Version": "2012-10-17", "Statement": []}']) == doc
    assert policy_document(["${data.aws_iam_policy_document.x.json}"]) is None
