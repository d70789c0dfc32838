"""Session fixtures: the SAM template as data, and its offline CloudFormation translation.

Translating here, with no AWS credentials and no network, lets the template tests
check what CloudFormation will actually receive (generated roles, rules, queues),
not only what SAM was given.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

from tests.template.grants import Grant, explicit_names, grants, role_logical_id, role_owners

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
# The translator only accepts S3 locations; the object never has to exist.
CODE_PLACEHOLDER = "s3://thumbflow-template-tests/code.zip"


class OfflinePolicyLoader(ManagedPolicyLoader):
    """Managed-policy lookup without IAM: the template names no AWS policy by name."""

    def __init__(self) -> None:
        super().__init__(iam_client=None)  # type: ignore[arg-type]  # never called

    def load(self) -> dict[str, str]:
        return {}


def load_sam_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """template.yaml as plain JSON data (cfn-lint's loader knows the short tags)."""
    return json.loads(json.dumps(cfn_yaml.load(str(path))))


def translatable(template: dict[str, Any], root: Path = ROOT) -> dict[str, Any]:
    """A copy SAM will translate offline: S3 code placeholders, definitions inlined."""
    result = copy.deepcopy(template)
    function_globals = result.get("Globals", {}).get("Function", {})
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = CODE_PLACEHOLDER
    for resource in result["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = CODE_PLACEHOLDER
        elif resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            with open(root / props.pop("DefinitionUri"), encoding="utf-8") as fh:
                props["Definition"] = json.load(fh)  # DefinitionSubstitutions stay as they are
    return result


@pytest.fixture(scope="session")
def sam_template() -> dict[str, Any]:
    """The SAM template as written."""
    return load_sam_template()


@pytest.fixture(scope="session")
def translated(sam_template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation template SAM produces for sam_template, as plain JSON data."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    output = transform(translatable(sam_template), {}, OfflinePolicyLoader())
    return json.loads(json.dumps(output))


def definition_files(template: dict[str, Any], root: Path = ROOT) -> dict[str, Path]:
    """State machine logical id -> the definition file its DefinitionUri names."""
    return {
        lid: root / r["Properties"]["DefinitionUri"]
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in r["Properties"]
    }


@pytest.fixture(scope="session")
def definitions(sam_template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """State machine logical id -> its definition as written (substitutions not applied)."""
    return {lid: json.loads(path.read_text(encoding="utf-8"))
            for lid, path in definition_files(sam_template).items()}


@pytest.fixture(scope="session")
def definition_path(sam_template: dict[str, Any]) -> Path:
    """The thumbnail workflow's definition file."""
    return definition_files(sam_template)["ThumbnailWorkflow"]


@pytest.fixture(scope="session")
def definition_text(definition_path: Path) -> str:
    """The thumbnail workflow definition's raw text, before any substitution."""
    return definition_path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def roles(translated: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Owner (function, state machine or rule) -> the translated IAM role it runs as."""
    return {owner: translated["Resources"][role_logical_id(translated, owner)]
            for owner in role_owners(translated)}


@pytest.fixture(scope="session")
def all_grants(translated: dict[str, Any], roles: dict[str, dict[str, Any]]) -> dict[str, set[Grant]]:
    """Owner -> its flattened grants."""
    names = explicit_names(translated)
    return {owner: grants(role, names) for owner, role in roles.items()}
