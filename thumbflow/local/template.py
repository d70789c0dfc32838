"""Read template.yaml and evaluate its intrinsic functions, for local mode.

Local mode must create exactly what the template describes, so it reads the
template itself rather than a copy of its values. Every intrinsic is either
evaluated as CloudFormation documents it or refused with ``TemplateError``:
nothing passes through unevaluated (a ``{"Fn::GetAZs": ...}`` left in a
property would be a silent, wrong value).
"""

from __future__ import annotations

import base64
import importlib.util
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

NO_VALUE = object()  # AWS::NoValue: the property or list item disappears

# Short-form tags CloudFormation accepts; each becomes its long form ({"Fn::X": ...}).
SHORT_TAGS = ("Ref", "GetAtt", "Sub", "If", "Join", "Select", "Split", "Equals", "Not", "And", "Or",
              "FindInMap", "Base64", "GetAZs", "ImportValue", "Condition", "Cidr", "Length",
              "ToJsonString", "Transform")


class TemplateError(Exception):
    """The template uses something local mode cannot evaluate, or is wrong."""


def _parse(text: str) -> dict[str, Any]:
    """The YAML (or JSON) text as plain data: PyYAML's safe loader (libyaml's parser when PyYAML
    has it: the same constructors and resolver, ~10x faster than the Python one) with a
    constructor per short tag."""
    import yaml

    class CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        """SafeLoader that understands the short-form tags (!Ref, !Sub, ...)."""

    def multi(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], dict[str, Any]]:
        name = tag if tag in ("Ref", "Condition") else f"Fn::{tag}"

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

    for tag in SHORT_TAGS:
        CfnLoader.add_constructor(f"!{tag}", multi(tag))
    return yaml.load(text, Loader=CfnLoader)


def _parsed_cache() -> Any:
    """Parsed templates kept between processes beside the definitions' programs (``programs``):
    a command that starts local mode then neither imports PyYAML nor parses the template again.
    Each ``load_template`` gets data of its own (callers change templates they loaded)."""
    from . import programs

    directory = programs.default_directory()
    spec = importlib.util.find_spec("yaml")
    origin = spec.origin if spec is not None and spec.origin else "yaml"
    return programs.ProgramCache(None if directory is None else directory / "templates",
                                 programs.versions_of("template=1", origin), keep_in_memory=False)


def load_template(path: str | Path) -> dict[str, Any]:
    """The template (YAML or JSON) as plain data, short tags turned into their long forms."""
    text = Path(path).read_text(encoding="utf-8")
    return _parsed_cache().get(text, _parse)


# ${Name} or ${Logical.Attribute}; ${!Literal} is written out as ${Literal}.
_SUB_VAR = re.compile(r"\$\{(!?)([^}]*)\}")


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
            body = (self.template.get("Conditions") or {}).get(name)
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
            literal, name = match.group(1), match.group(2)
            if literal:
                return "${" + name + "}"
            if name in extra:
                return str(extra[name])
            if "." in name and name not in self.pseudo:
                logical, attribute = name.split(".", 1)
                return str(self.get_att(logical, attribute))
            return str(self.ref(name))

        return _SUB_VAR.sub(one, text)

    def find_in_map(self, map_name: str, top: str, second: str) -> Any:
        try:
            return (self.template.get("Mappings") or {})[map_name][top][second]
        except (KeyError, TypeError):
            raise TemplateError(f"!FindInMap [{map_name}, {top}, {second}]: no such entry") from None

    def resolve(self, node: Any) -> Any:
        """Evaluate every intrinsic in ``node``; AWS::NoValue items are dropped."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (name, arg), = node.items()
            if name in _FUNCTIONS:
                return _FUNCTIONS[name](self, arg)
            if name.startswith("Fn::") or name == "Ref":
                raise TemplateError(f"{name} is not evaluated by local mode")
        out = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not NO_VALUE}


def _sub(r: Resolver, arg: Any) -> str:
    if isinstance(arg, str):
        return r.sub(arg, {})
    text, variables = arg
    return r.sub(text, {k: r.resolve(v) for k, v in variables.items()})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else str(value).split(",")


def _select(r: Resolver, arg: Any) -> Any:
    index, items = int(r.resolve(arg[0])), _as_list(r.resolve(arg[1]))
    if not 0 <= index < len(items):
        raise TemplateError(f"!Select index {index} is outside a list of {len(items)}")
    return items[index]


def _base64(r: Resolver, arg: Any) -> str:
    return base64.b64encode(str(r.resolve(arg)).encode("utf-8")).decode("ascii")


def _find_in_map(r: Resolver, arg: Any) -> Any:
    map_name, top, second = (str(r.resolve(a)) for a in arg[:3])
    return r.find_in_map(map_name, top, second)


def _not_local(what: str) -> Callable[[Resolver, Any], Any]:
    def refuse(r: Resolver, arg: Any) -> Any:
        raise TemplateError(f"{what} is not evaluated by local mode ({what} {arg!r})")

    return refuse


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::GetAtt": lambda r, a: r.get_att(*(a if isinstance(a, list) else str(a).split(".", 1))),
    "Fn::Sub": _sub,
    "Fn::If": lambda r, a: r.resolve(a[1] if r.condition(a[0]) else a[2]),
    "Fn::Join": lambda r, a: str(a[0]).join(str(x) for x in _as_list(r.resolve(a[1]))),
    "Fn::Select": _select,
    "Fn::Split": lambda r, a: str(r.resolve(a[1])).split(a[0]),
    "Fn::Equals": lambda r, a: str(r.resolve(a[0])) == str(r.resolve(a[1])),
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(x) for x in a),
    "Fn::Or": lambda r, a: any(r.resolve(x) for x in a),
    "Fn::Base64": _base64,
    "Fn::FindInMap": _find_in_map,
    "Condition": lambda r, a: r.condition(a),
    # Their values live in an account (zones, other stacks' exports) or in a transform.
    "Fn::GetAZs": _not_local("Fn::GetAZs"),
    "Fn::ImportValue": _not_local("Fn::ImportValue"),
    "Fn::Cidr": _not_local("Fn::Cidr"),
    "Fn::Length": _not_local("Fn::Length"),
    "Fn::ToJsonString": _not_local("Fn::ToJsonString"),
    "Fn::Transform": _not_local("Fn::Transform"),
}


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    """Defaults overlaid with overrides, typed as CloudFormation passes them (lists split)."""
    declared = template.get("Parameters") or {}
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
        pattern = spec.get("AllowedPattern")
        if pattern and spec.get("Type") == "String" and not re.fullmatch(pattern, raw):
            raise TemplateError(f"parameter {name}={raw!r} does not match {pattern}")
        values[name] = raw.split(",") if spec.get("Type") == "CommaDelimitedList" else raw
    return values
