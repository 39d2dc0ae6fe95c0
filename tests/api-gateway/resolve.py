"""Resolves the CloudFormation intrinsics left in a translated template's API definition.

The SAM transform leaves `Fn::Sub`, `Ref`, `Fn::GetAtt`, `Fn::If` (and, in conditions,
`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`) for CloudFormation to resolve at deploy time. To
import the definition into an API Gateway that runs it, they are resolved here the way
CloudFormation would: parameters from the values the template was translated with, pseudo
parameters from the engine's account and region, and resources from the real names and ARNs of
what the test created in the engine. Anything not given is an error, so a new reference in the
definition cannot slip through unresolved.
"""

import re

NO_VALUE = object()  # AWS::NoValue: the key or list item it stands in is dropped

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}|\$\{!([^}]*)\}")


class Unresolved(KeyError):
    """A reference that the given parameters, pseudo parameters and resources do not cover."""


class Resolver:
    """resources maps a logical id to {"Ref": value, "<attribute>": value, ...}."""

    def __init__(self, parameters, pseudo, resources, conditions):
        self.parameters = dict(parameters)
        self.pseudo = dict(pseudo)
        self.resources = resources
        self.conditions = conditions
        self._evaluated = {}

    # -- references

    def ref(self, name):
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources and "Ref" in self.resources[name]:
            return self.resources[name]["Ref"]
        raise Unresolved(f"Ref {name}")

    def get_att(self, name, attribute):
        try:
            return self.resources[name][attribute]
        except KeyError:
            raise Unresolved(f"Fn::GetAtt {name}.{attribute}") from None

    def condition(self, name):
        if name not in self._evaluated:
            if name not in self.conditions:
                raise Unresolved(f"Condition {name}")
            self._evaluated[name] = bool(self.resolve(self.conditions[name]))
        return self._evaluated[name]

    # -- functions

    def sub(self, argument):
        if isinstance(argument, list):
            text, variables = argument
            variables = {key: self.resolve(value) for key, value in variables.items()}
        else:
            text, variables = argument, {}

        def replace(match):
            if match.group(2) is not None:  # ${!Literal} is written as ${Literal}
                return "${" + match.group(2) + "}"
            name = match.group(1).strip()
            if name in variables:
                value = variables[name]
            elif "." in name and not name.startswith("AWS::"):
                value = self.get_att(*name.split(".", 1))
            else:
                value = self.ref(name)
            if not isinstance(value, str):
                raise Unresolved(f"Fn::Sub ${{{name}}} is not a string: {value!r}")
            return value

        return _SUB_VARIABLE.sub(replace, text)

    def resolve(self, node):
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                name, attribute = value.split(".", 1) if isinstance(value, str) else value
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                return self.sub(value)
            if key == "Fn::If":
                name, if_true, if_false = value
                return self.resolve(if_true if self.condition(name) else if_false)
            if key == "Fn::Equals":
                left, right = (self.resolve(side) for side in value)
                return str(left) == str(right)  # CloudFormation compares the strings
            if key == "Fn::Not":
                return not self.resolve(value[0])
            if key == "Fn::And":
                return all(self.resolve(item) for item in value)
            if key == "Fn::Or":
                return any(self.resolve(item) for item in value)
            if key == "Condition":
                return self.condition(value)
            if key == "Fn::Join":
                separator, items = value
                return separator.join(self.resolve(items))
            if key.startswith("Fn::"):
                raise Unresolved(f"{key} is not supported by this resolver")
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}


def api_definition(template, api, pseudo, resources):
    """The OpenAPI body of the translated template's REST API `api`, intrinsics resolved."""
    parameters = template.get("Metadata", {}).get("CafeTranslatedWith")
    if parameters is None:
        raise ValueError("the template has no Metadata.CafeTranslatedWith: translate it with deploy/transform.py")
    resolver = Resolver(parameters, pseudo, resources, template.get("Conditions", {}))
    return resolver.resolve(template["Resources"][api]["Properties"]["Body"])


def leftover_intrinsics(node, path="$"):
    """Paths of any `Ref`/`Fn::*`/`Condition` keys still in a resolved document."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" or key.startswith("Fn::"):
                found.append(f"{path}.{key}")
            found += leftover_intrinsics(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += leftover_intrinsics(item, f"{path}[{index}]")
    return found
