"""cfn-lint, with the serverless rules, finds nothing wrong with the template, as written and as translated.

Linting the translation too matters: since cfn-lint 1.x validates SAM templates
against SAM schemas instead of running the SAM transform, only the translated
template shows cfn-lint exactly what CloudFormation will receive.

Both runs add the rules of ``cfn-lint-serverless`` (``cfn-lint -a
cfn_lint_serverless.rules``). A finding is either fixed in template.yaml or
ignored there, on the resource it concerns, with ``Metadata: cfn-lint: config:
ignore_checks`` and a YAML comment naming the rule and saying why. Resources SAM
generates cannot carry Metadata, so the ignores of the SAM resource that
generates them (say, ThumbnailWorkflow for the rule of its EventBridgeRule event)
apply to them. Every ignore must still suppress a real finding, so none outlives
the reason it was written for. No finding is excused otherwise: every resource
the template refers to is one it declares or one SAM documents generating.

``sam validate --lint`` (samconfig.toml turns lint on) is cfn-lint's own rules on
the raw template; the last test makes that exact call.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint
from cfnlint.match import Match

from tests.reliability import record

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"
SERVERLESS_RULES = "cfn_lint_serverless.rules"
LINT_CONFIG = ManualArgs(regions=["us-east-1"], append_rules=[SERVERLESS_RULES])

Ignore = tuple[str, str]  # (logical id in template.yaml, rule id)


def run_lint(template: str | dict[str, Any]) -> list[Match]:
    """cfn-lint with its own rules plus the serverless rules, as `cfn-lint -a` would run it."""
    text = template if isinstance(template, str) else json.dumps(template, indent=1)
    return lint(text, config=LINT_CONFIG)


def describe(matches: list[Match]) -> list[str]:
    """Readable one-liners for an assertion message."""
    return [f"{m.rule.id} {'/'.join(map(str, m.path))}: {m.message}" for m in matches]


# ---------------------------------------------------------------- ignores in the template


def ignore_checks(resource: dict[str, Any]) -> list[str]:
    return list(resource.get("Metadata", {}).get("cfn-lint", {}).get("config", {}).get("ignore_checks", []))


def declared_ignores(sam_template: dict[str, Any]) -> set[Ignore]:
    """Every (resource, rule) template.yaml tells cfn-lint to ignore."""
    return {
        (logical_id, rule)
        for logical_id, resource in sam_template["Resources"].items()
        for rule in ignore_checks(resource)
    }


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def generated_by(sam_template: dict[str, Any], translated: dict[str, Any]) -> dict[str, str]:
    """Resource SAM generated -> the AWS::Serverless resource that generated it.

    SAM names what it generates after its owner (``ValidateFunctionRole``) or after a
    logical id the owner's properties give (``QueueLogicalId``); the longest match wins.
    """
    owners = {
        lid: res for lid, res in sam_template["Resources"].items()
        if res["Type"].startswith("AWS::Serverless::")
    }
    named = {lid: set(_strings(res.get("Properties", {}))) for lid, res in owners.items()}
    result: dict[str, str] = {}
    for lid in translated["Resources"]:
        if lid in sam_template["Resources"]:
            continue
        candidates = [o for o in owners if lid.startswith(o) or lid in named[o]]
        if candidates:
            result[lid] = max(candidates, key=len)
    return result


def with_owner_ignores(sam_template: dict[str, Any], translated: dict[str, Any]) -> dict[str, Any]:
    """The translation, each generated resource carrying its SAM owner's ignore_checks."""
    result = copy.deepcopy(translated)
    for lid, owner in generated_by(sam_template, translated).items():
        rules = ignore_checks(sam_template["Resources"][owner])
        if rules:
            result["Resources"][lid].setdefault("Metadata", {})["cfn-lint"] = {
                "config": {"ignore_checks": rules}
            }
    return result


def without_ignores(template: dict[str, Any]) -> dict[str, Any]:
    """A copy with every resource's cfn-lint Metadata removed: what cfn-lint really finds."""
    result = copy.deepcopy(template)
    for resource in result["Resources"].values():
        resource.get("Metadata", {}).pop("cfn-lint", None)
        if resource.get("Metadata") == {}:
            del resource["Metadata"]
    return result


def finding_owner(match: Match, generated: dict[str, str]) -> str | None:
    """The template.yaml resource a finding is about (generated resources map to their owner)."""
    path = list(match.path)
    if len(path) < 2 or path[0] != "Resources":
        return None
    return generated.get(str(path[1]), str(path[1]))


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sam_matches() -> list[Match]:
    return run_lint(TEMPLATE_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def translated_matches(sam_template: dict[str, Any], translated: dict[str, Any]) -> list[Match]:
    return run_lint(with_owner_ignores(sam_template, translated))


@pytest.fixture(scope="module")
def raw_findings(sam_template: dict[str, Any], translated: dict[str, Any]) -> set[Ignore]:
    """(resource in template.yaml, rule) of every finding with all template ignores removed."""
    generated = generated_by(sam_template, translated)
    matches = run_lint(without_ignores(sam_template)) + run_lint(without_ignores(translated))
    return {(owner, m.rule.id) for m in matches if (owner := finding_owner(m, generated)) is not None}


# ---------------------------------------------------------------- self-checks


def test_serverless_rules_are_loaded() -> None:
    """Without the plugin every serverless check would pass vacuously: prove it runs."""
    bare = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.13",
                    "Handler": "x.handler",
                    "Role": "arn:aws:iam::123456789012:role/x",
                    "Code": {"ZipFile": "def handler(e, c): pass"},
                },
            },
        },
    }
    found = {m.rule.id for m in run_lint(bare)}
    assert {"ES6000", "WS1000", "WS1004", "ES1005", "ES1006"} <= found, found


def test_generated_resources_map_to_their_owner(
    sam_template: dict[str, Any], translated: dict[str, Any]
) -> None:
    """The ownership rule that carries ignores over to SAM-generated resources."""
    generated = generated_by(sam_template, translated)
    assert generated["ThumbnailWorkflowUpload"] == "ThumbnailWorkflow"
    assert generated["ThumbnailWorkflowUploadRole"] == "ThumbnailWorkflow"
    assert "UploadEventsDeadLetterQueue" not in generated  # declared in template.yaml
    assert generated["PurgeWorkflowDelete"] == "PurgeWorkflow"
    assert generated["PurgeWorkflowDeleteRole"] == "PurgeWorkflow"
    assert generated["ValidateFunctionRole"] == "ValidateFunction"
    assert generated["BackfillWorkflowRole"] == "BackfillWorkflow"
    assert generated["OnDemandFunctionUrl"] == "OnDemandFunction"
    # Everything the translation adds has an owner, so no finding on it can go unowned.
    assert set(translated["Resources"]) - set(sam_template["Resources"]) == set(generated)


# ---------------------------------------------------------------- the lint itself


def test_sam_template_lints_clean(sam_matches: list[Match]) -> None:
    """Every cfn-lint finding on template.yaml is fixed or ignored there with a reason."""
    assert sam_matches == [], describe(sam_matches)
    record("Security", "cfn-lint + cfn-lint-serverless on template.yaml",
           "no finding except ignores justified in the template", f"{len(sam_matches)} findings")


def test_translated_template_lints_clean(translated_matches: list[Match]) -> None:
    """The CloudFormation SAM generates passes too, with only the template's own ignores."""
    assert translated_matches == [], describe(translated_matches)
    record("Security", "cfn-lint + cfn-lint-serverless on the SAM translation",
           "no finding except ignores justified in the template", f"{len(translated_matches)} findings")


def test_every_ignore_is_justified_in_the_template(sam_template: dict[str, Any]) -> None:
    """An ignored rule needs a YAML comment naming it inside that resource's own block."""
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    unjustified = []
    for logical_id, rule in sorted(declared_ignores(sam_template)):
        block = re.search(rf"^  {re.escape(logical_id)}:\n((?:(?:    .*)?\n)*)", text, re.MULTILINE)
        assert block is not None, logical_id
        if not re.search(rf"^\s*#.*\b{re.escape(rule)}\b", block.group(1), re.MULTILINE):
            unjustified.append((logical_id, rule))
    assert unjustified == []


def test_every_ignore_still_hides_a_real_finding(
    sam_template: dict[str, Any], raw_findings: set[Ignore]
) -> None:
    """An ignore that suppresses nothing is stale and would hide the next real finding."""
    declared = declared_ignores(sam_template)
    assert declared - raw_findings == set()
    for logical_id, rule in sorted(declared):
        found = "present" if (logical_id, rule) in raw_findings else "absent"
        ignored = "ignored" if rule in ignore_checks(sam_template["Resources"][logical_id]) else "not ignored"
        record("Security", f"cfn-lint {rule} on {logical_id}",
               "ignored, with the reason in template.yaml", f"finding {found} and {ignored}")


def test_only_declared_ignores_are_hidden(
    sam_template: dict[str, Any], raw_findings: set[Ignore]
) -> None:
    """Whatever cfn-lint finds is exactly what template.yaml chose to ignore: nothing slips by."""
    assert raw_findings == declared_ignores(sam_template)


# ---------------------------------------------------------------- sam validate --lint


def test_samconfig_turns_lint_on() -> None:
    """Plain `sam validate` then runs cfn-lint too, not only SAM's own translation check."""
    config = tomllib.loads((TEMPLATE_PATH.parent / "samconfig.toml").read_text(encoding="utf-8"))
    assert config["default"]["validate"]["parameters"]["lint"] is True


def test_sam_validate_lint_finds_nothing() -> None:
    """What `sam validate --lint` runs (aws-sam-cli 1.170): cfn-lint's rules on the raw text, no
    config but the region; any match fails the command. Nothing excused: no E1010 at all."""
    matches = lint(TEMPLATE_PATH.read_text(encoding="utf-8"), config=ManualArgs())
    assert matches == [], describe(matches)
    record("Security", "sam validate --lint (cfn-lint's own rules, as aws-sam-cli calls it)",
           "no finding of any level", f"{len(matches)} findings")
