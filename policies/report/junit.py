"""JUnit XML for CI test views: one testsuite per stack, one testcase per (check, resource).

Failed → <failure> (type = severity), suppressed → <skipped> with the reason, gate errors → an
<error> testcase, and every suppression is listed in the suite properties.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from policies.findings import FAILED, NOT_EVALUATED, SUPPRESSED
from policies.report.model import TOOL, location, shows_construct


def render(result) -> str:
    root = ET.Element("testsuites", name=TOOL)
    by_stack = defaultdict(list)
    for f in result.findings:
        by_stack[f.stack].append(f)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if result.errors:
        suite = ET.SubElement(root, "testsuite", name="gate", tests=str(len(result.errors)),
                              failures="0", errors=str(len(result.errors)), skipped="0")
        for i, message in enumerate(result.errors, 1):
            case = ET.SubElement(suite, "testcase", classname="gate", name=f"gate error {i}")
            ET.SubElement(case, "error", message=message[:500], type="error").text = message
        totals["tests"] += len(result.errors)
        totals["errors"] += len(result.errors)
    for stack in sorted(by_stack):
        findings = by_stack[stack]
        failed = sum(f.status == FAILED for f in findings)
        skipped = sum(f.status in (SUPPRESSED, NOT_EVALUATED) for f in findings)
        suite = ET.SubElement(root, "testsuite", name=stack, tests=str(len(findings)), failures=str(failed),
                              errors="0", skipped=str(skipped))
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="env", value=findings[0].env or "")
        ET.SubElement(props, "property", name="threshold", value=result.thresholds.get(findings[0].env or "", ""))
        for s in result.suppressions:
            if s.where.startswith(stack + "/") or any(m.startswith(stack + "/") for m in s.matched):
                ET.SubElement(props, "property", name=f"suppression:{s.check_id}:{s.where}",
                              value=f"{s.problem or 'ok'}; expires {s.expires}; {s.reason}")
        for f in findings:
            case = ET.SubElement(suite, "testcase", classname=f"{stack}.{f.check_id}",
                                 name=f"{f.check_id} {f.address or stack}", file=f.file)
            if f.line:
                case.set("line", str(f.line))
            if f.status == FAILED:
                detail = (f"{f.title}\nseverity: {f.severity}{' (blocking)' if f.blocking else ''}\n"
                          f"resource: {f.address}\n"
                          + (f"construct: {f.construct_path}\n" if shows_construct(f) else "")
                          + (f"at: {location(f)}\n" if f.caller_file else "")
                          + (f"why: {f.why}\n" if f.why else "") + f"fix: {f.remediation}")
                ET.SubElement(case, "failure", message=f.title, type=f.severity).text = detail
            elif f.status == NOT_EVALUATED:
                ET.SubElement(case, "skipped", message=f"not evaluated: {f.why}")
            elif f.status == SUPPRESSED and f.suppression:
                ET.SubElement(case, "skipped", message=f"suppressed until {f.suppression.expires}: "
                                                       f"{f.suppression.reason}")
        totals["tests"] += len(findings)
        totals["failures"] += failed
        totals["skipped"] += skipped
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
