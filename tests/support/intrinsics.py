"""CloudFormation's intrinsic functions evaluated for given parameter values, as a deploy would resolve them.

Enough of them for template.yaml's names, grants, outputs and conditions: Ref, Fn::GetAtt, Fn::Sub,
Fn::Join, Fn::Split, Fn::Select, Fn::If, and the condition functions. A resource's Ref or attribute is
the value `refs` gives it, else a placeholder `<Id>` / `<Id.Attribute>`. AWS::NoValue removes the key or
list item that holds it, as CloudFormation does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


#: What `!Ref AWS::NoValue` evaluates to (dropped from the dict or list holding it).
NO_VALUE = _NoValue()


@dataclass
class Deployment:
    """A stack of template.yaml: its parameter values (defaults for the rest) and pseudo parameters."""

    template: Mapping[str, Any]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    stack_name: str = "connector"
    stack_id: str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/connector/1c2fa620-982a-11e3-aff7-50e2416294e0"
    refs: Mapping[str, str] = field(default_factory=dict)

    def parameter(self, name: str) -> Any:
        declared = self.template["Parameters"][name]
        value = self.parameters[name] if name in self.parameters else declared.get("Default")
        assert value is not None, f"parameter {name} has no default: give it a value"
        if declared["Type"] == "CommaDelimitedList":
            return value if isinstance(value, list) else str(value).split(",")
        return str(value)

    def pseudo(self, name: str) -> str:
        return {
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::Region": self.stack_id.split(":")[3],
            "AWS::AccountId": self.stack_id.split(":")[4],
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }[name]

    def condition(self, name: str) -> bool:
        return bool(self.evaluate(self.template["Conditions"][name]))

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.template["Parameters"]:
            return self.parameter(name)
        assert name in self.template["Resources"], f"Ref to unknown {name}"
        return self.refs.get(name, f"<{name}>")

    def get_att(self, resource: str, attribute: str) -> str:
        assert resource in self.template["Resources"], f"GetAtt of unknown {resource}"
        return self.refs.get(f"{resource}.{attribute}", f"<{resource}.{attribute}>")

    def sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self.evaluate(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name and not name.startswith("AWS::"):
                return self.get_att(*name.split(".", 1))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def evaluate(self, value: Any) -> Any:
        """The value with every intrinsic function resolved."""
        if isinstance(value, list):
            return [item for item in (self.evaluate(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            function = _FUNCTIONS.get(key)
            if function is not None:
                return function(self, argument)
        evaluated = {key: self.evaluate(item) for key, item in value.items()}
        return {key: item for key, item in evaluated.items() if item is not NO_VALUE}


def _select(deployment: Deployment, argument: list[Any]) -> Any:
    index, items = argument
    return deployment.evaluate(items)[int(deployment.evaluate(index))]


def _if(deployment: Deployment, argument: list[Any]) -> Any:
    name, when_true, when_false = argument
    return deployment.evaluate(when_true if deployment.condition(name) else when_false)


_FUNCTIONS = {
    "Ref": lambda d, name: d.ref(name),
    "Fn::GetAtt": lambda d, arg: d.get_att(*(arg.split(".", 1) if isinstance(arg, str) else arg)),
    "Fn::Sub": lambda d, arg: d.sub(arg),
    "Fn::Join": lambda d, arg: arg[0].join(str(item) for item in d.evaluate(arg[1])),
    "Fn::Split": lambda d, arg: str(d.evaluate(arg[1])).split(arg[0]),
    "Fn::Select": _select,
    "Fn::If": _if,
    "Fn::Equals": lambda d, arg: str(d.evaluate(arg[0])) == str(d.evaluate(arg[1])),
    "Fn::Not": lambda d, arg: not d.evaluate(arg[0]),
    "Fn::And": lambda d, arg: all(d.evaluate(item) for item in arg),
    "Fn::Or": lambda d, arg: any(d.evaluate(item) for item in arg),
    "Condition": lambda d, name: d.condition(name),
}


def iam_matches(pattern: str, arn: str) -> bool:
    """IAM's resource matching: `*` any run of characters, `?` exactly one, everything else literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, arn) is not None
