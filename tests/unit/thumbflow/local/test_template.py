"""template.yaml as local mode reads it: every intrinsic evaluated as CloudFormation does, or refused."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from thumbflow.local.template import NO_VALUE, Resolver, TemplateError, load_template, parameter_values

ROOT = Path(__file__).resolve().parents[4]
TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Name": {"Type": "String", "Default": "photos"},
        "Suffixes": {"Type": "CommaDelimitedList", "Default": ".jpg,.png"},
        "Mode": {"Type": "String", "Default": "on", "AllowedValues": ["on", "off"]},
        "Sizes": {"Type": "String", "Default": "1x1", "AllowedPattern": "^[0-9]+x[0-9]+$"},
    },
    "Conditions": {"IsOn": {"Fn::Equals": [{"Ref": "Mode"}, "on"]},
                   "IsOff": {"Fn::Not": [{"Condition": "IsOn"}]}},
    "Mappings": {"Region": {"us-east-1": {"Zone": "use1"}}},
}


def resolver(parameters: dict[str, str] | None = None) -> Resolver:
    return Resolver(TEMPLATE, parameter_values(TEMPLATE, parameters or {}), {"Bucket": "the-bucket"},
                    {("Bucket", "Arn"): "arn:aws:s3:::the-bucket"},
                    {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012"})


@pytest.mark.parametrize(("node", "value"), [
    ({"Ref": "Name"}, "photos"),
    ({"Ref": "Bucket"}, "the-bucket"),
    ({"Fn::GetAtt": ["Bucket", "Arn"]}, "arn:aws:s3:::the-bucket"),
    ({"Fn::GetAtt": "Bucket.Arn"}, "arn:aws:s3:::the-bucket"),
    ({"Fn::Sub": "${Bucket.Arn}/*"}, "arn:aws:s3:::the-bucket/*"),
    ({"Fn::Sub": "${AWS::Region}-${Name}"}, "us-east-1-photos"),
    ({"Fn::Sub": ["${A}-${Name}", {"A": {"Ref": "Bucket"}}]}, "the-bucket-photos"),
    ({"Fn::Sub": "${!Literal} and ${Name}"}, "${Literal} and photos"),
    ({"Fn::Join": ["+", {"Ref": "Suffixes"}]}, ".jpg+.png"),
    ({"Fn::Select": [1, {"Ref": "Suffixes"}]}, ".png"),
    ({"Fn::Split": [",", "a,b"]}, ["a", "b"]),
    ({"Fn::If": ["IsOn", "yes", "no"]}, "yes"),
    ({"Fn::If": ["IsOff", "yes", "no"]}, "no"),
    ({"Fn::And": [{"Condition": "IsOn"}, {"Fn::Equals": ["a", "a"]}]}, True),
    ({"Fn::Or": [{"Condition": "IsOff"}, {"Fn::Equals": ["a", "b"]}]}, False),
    ({"Fn::Base64": "hello"}, base64.b64encode(b"hello").decode()),
    ({"Fn::FindInMap": ["Region", {"Ref": "AWS::Region"}, "Zone"]}, "use1"),
])
def test_intrinsics(node: Any, value: Any) -> None:
    assert resolver().resolve(node) == value


def test_no_value_drops_the_property_or_item() -> None:
    r = resolver()
    assert r.resolve({"A": {"Ref": "AWS::NoValue"}, "B": 1}) == {"B": 1}
    assert r.resolve([1, {"Fn::If": ["IsOff", 2, {"Ref": "AWS::NoValue"}]}]) == [1]
    assert r.ref("AWS::NoValue") is NO_VALUE


@pytest.mark.parametrize("node", [
    {"Fn::GetAZs": ""},
    {"Fn::ImportValue": "other-stack-export"},
    {"Fn::Cidr": ["10.0.0.0/16", 2, 8]},
    {"Fn::Length": [1, 2]},
    {"Fn::ToJsonString": {"a": 1}},
    {"Fn::Transform": {"Name": "AWS::Include"}},
    {"Fn::Unheard": 1},
    {"Fn::FindInMap": ["Region", "eu-west-1", "Zone"]},
    {"Fn::Select": [5, ["a"]]},
    {"Ref": "Nothing"},
    {"Fn::GetAtt": ["Bucket", "DomainName"]},
], ids=lambda n: next(iter(n)))
def test_what_local_mode_does_not_evaluate_fails_loudly(node: Any) -> None:
    with pytest.raises(TemplateError):
        resolver().resolve({"Property": node})


def test_parameters_typed_and_checked() -> None:
    assert parameter_values(TEMPLATE, {})["Suffixes"] == [".jpg", ".png"]
    with pytest.raises(TemplateError, match="not one of"):
        parameter_values(TEMPLATE, {"Mode": "maybe"})
    with pytest.raises(TemplateError, match="does not match"):
        parameter_values(TEMPLATE, {"Sizes": "big"})
    with pytest.raises(TemplateError, match="unknown parameters"):
        parameter_values(TEMPLATE, {"Nope": "1"})


def test_short_tags_load_as_long_forms(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("A: !Ref X\nB: !GetAtt Y.Arn\nC: !Sub '${X}'\nD: !If [C, 1, 2]\nE: !GetAZs ''\n"
                    "F: !Base64 hi\nG: !FindInMap [M, a, b]\n")
    assert load_template(path) == {"A": {"Ref": "X"}, "B": {"Fn::GetAtt": ["Y", "Arn"]},
                                   "C": {"Fn::Sub": "${X}"}, "D": {"Fn::If": ["C", 1, 2]},
                                   "E": {"Fn::GetAZs": ""}, "F": {"Fn::Base64": "hi"},
                                   "G": {"Fn::FindInMap": ["M", "a", "b"]}}


def test_the_real_template_loads() -> None:
    template = load_template(ROOT / "template.yaml")
    assert "ThumbnailWorkflow" in template["Resources"]
    assert parameter_values(template, {})  # every parameter has a default
