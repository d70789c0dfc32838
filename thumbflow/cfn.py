"""Read template.yaml and evaluate its intrinsic functions, for local mode.

Local mode must create exactly what the template describes, so it reads the
template itself rather than a copy of its values. Only the intrinsics the
template uses are supported; anything else fails loudly rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

NO_VALUE = object()  # AWS::NoValue: the property or list item disappears


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands the short-form tags (!Ref, !Sub, ...)."""


def _multi(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
    name = "Ref" if tag == "Ref" else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _tag in ("Ref", "GetAtt", "Sub", "If", "Join", "Select", "Split", "Equals", "Not", "And",
             "Or", "FindInMap", "Base64", "GetAZs", "ImportValue", "Condition"):
    _CfnLoader.add_constructor(f"!{_tag}", _multi(_tag))


def load_template(path: str | Path) -> dict[str, Any]:
    """The template as plain data, short tags turned into their long forms."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CfnLoader)


class TemplateError(Exception):
    """The template uses something local mode cannot evaluate."""


_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


class Resolver:
    """Evaluates intrinsics against parameter values and local physical resources."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, Any],
        refs: Mapping[str, Any],
        attributes: Mapping[tuple[str, str], Any],
        pseudo: Mapping[str, str],
    ) -> None:
        self.template = template
        self.parameters = dict(parameters)
        self.refs = refs
        self.attributes = attributes
        self.pseudo = pseudo
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            body = self.template.get("Conditions", {}).get(name)
            if body is None:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self.resolve(body))
        return self._conditions[name]

    def ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise TemplateError(f"!Ref {name}: not a parameter or a resource local mode creates")

    def get_att(self, logical: str, attribute: str) -> Any:
        try:
            return self.attributes[(logical, attribute)]
        except KeyError:
            raise TemplateError(f"!GetAtt {logical}.{attribute} is not known locally") from None

    def sub(self, text: str, extra: Mapping[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                return str(extra[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return str(self.get_att(logical, attribute))
            return str(self.ref(name))

        return _SUB_VAR.sub(one, text)

    def resolve(self, node: Any) -> Any:
        """Evaluate every intrinsic in ``node``; AWS::NoValue items are dropped."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (name, arg), = node.items()
            fn = _FUNCTIONS.get(name)
            if fn is not None:
                return fn(self, arg)
        out = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not NO_VALUE}


def _sub(r: Resolver, arg: Any) -> str:
    if isinstance(arg, str):
        return r.sub(arg, {})
    text, variables = arg
    return r.sub(text, {k: r.resolve(v) for k, v in variables.items()})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else str(value).split(",")


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::GetAtt": lambda r, a: r.get_att(a[0], a[1]),
    "Fn::Sub": _sub,
    "Fn::If": lambda r, a: r.resolve(a[1] if r.condition(a[0]) else a[2]),
    "Fn::Join": lambda r, a: str(a[0]).join(str(x) for x in _as_list(r.resolve(a[1]))),
    "Fn::Select": lambda r, a: _as_list(r.resolve(a[1]))[int(r.resolve(a[0]))],
    "Fn::Split": lambda r, a: str(r.resolve(a[1])).split(a[0]),
    "Fn::Equals": lambda r, a: str(r.resolve(a[0])) == str(r.resolve(a[1])),
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(x) for x in a),
    "Fn::Or": lambda r, a: any(r.resolve(x) for x in a),
    "Condition": lambda r, a: r.condition(a),
}


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    """Defaults overlaid with overrides, typed as CloudFormation passes them (lists split)."""
    declared = template.get("Parameters", {})
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"unknown parameters: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        raw = overrides.get(name, spec.get("Default"))
        if raw is None:
            raise TemplateError(f"parameter {name} has no default: pass it")
        raw = str(raw)
        allowed = spec.get("AllowedValues")
        if allowed and raw not in [str(a) for a in allowed]:
            raise TemplateError(f"parameter {name}={raw!r} is not one of {allowed}")
        values[name] = raw.split(",") if spec.get("Type") == "CommaDelimitedList" else raw
    return values
