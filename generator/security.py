"""Effective security of an operation and its class (DESIGN section 2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .ir import EffectiveSecurity, SchemeUse, SecurityClass, SecurityRequirement, SecurityScheme

def parse_requirements(raw: Any) -> tuple[SecurityRequirement, ...]:
    """A raw ``security`` list as requirement objects, in spec order."""
    if not isinstance(raw, list):
        return ()
    requirements = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        uses = tuple(
            SchemeUse(str(name), tuple(str(s) for s in scopes) if isinstance(scopes, list) else ())
            for name, scopes in item.items()
        )
        requirements.append(SecurityRequirement(uses))
    return tuple(requirements)


def effective_security(
    operation_security: Any,
    root_security: Any,
    schemes: Mapping[str, SecurityScheme],
) -> EffectiveSecurity:
    """``operation_security`` is the raw value or ``None`` when the key is absent."""
    if operation_security is not None:
        alternatives, source = parse_requirements(operation_security), "operation"
    elif root_security is not None:
        alternatives, source = parse_requirements(root_security), "root"
    else:
        alternatives, source = (), "none"
    return EffectiveSecurity(alternatives, source, classify(alternatives, schemes))  # type: ignore[arg-type]


def requirement_needs_token(req: SecurityRequirement, schemes: Mapping[str, SecurityScheme]) -> bool:
    return any(schemes[use.scheme].is_token for use in req.schemes if use.scheme in schemes)


def classify(
    alternatives: tuple[SecurityRequirement, ...], schemes: Mapping[str, SecurityScheme]
) -> SecurityClass:
    if not alternatives or all(not req.schemes for req in alternatives):
        return SecurityClass.PUBLIC
    needs_token = [requirement_needs_token(req, schemes) for req in alternatives]
    if all(needs_token):
        return SecurityClass.TOKEN_REQUIRED
    if any(needs_token):
        return SecurityClass.TOKEN_OPTIONAL
    return SecurityClass.CREDENTIAL_ONLY


def undeclared_schemes(
    alternatives: tuple[SecurityRequirement, ...], schemes: Mapping[str, SecurityScheme]
) -> list[str]:
    return [use.scheme for req in alternatives for use in req.schemes if use.scheme not in schemes]


def describe(security: EffectiveSecurity) -> str:
    """Human text for docstrings and the ``security`` command."""
    if security.security_class is SecurityClass.PUBLIC:
        return "public (no credentials)"
    parts = []
    for req in security.alternatives:
        if not req.schemes:
            parts.append("anonymous")
            continue
        parts.append(
            " AND ".join(
                use.scheme + (f" [{', '.join(use.scopes)}]" if use.scopes else "") for use in req.schemes
            )
        )
    return " OR ".join(parts)
