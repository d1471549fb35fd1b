"""Whether a fault rule can ever fire on the models a mock serves: a rule that cannot (a
model id no model answers to, a finish reason its model's answers never carry, a prompt
condition on a model that takes no prompt, an error or stream error its operation never
raises) is refused when it is added, with what was likely meant, instead of sitting in the
rules with ``"fired": 0``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bedrock_contract import Catalogue, ModelContract
from bedrock_contract.suggest import did_you_mean
from mock_bedrock.service.errors import INVOKE_STREAM, operation_errors

if TYPE_CHECKING:
    from mock_bedrock.service.faults import FaultRule


def why_it_cannot_fire(rule: FaultRule, catalogue: Catalogue) -> str | None:
    """Why ``rule`` could fire on no call of a mock serving ``catalogue``, or None when some
    call can meet it."""
    if rule.operation is not None:
        if rule.error is not None and rule.error not in operation_errors(rule.operation):
            return f"{rule.operation} never answers {rule.error!r}"
        if rule.stream_error is not None and rule.operation != INVOKE_STREAM:
            return f"a stream error happens only in {INVOKE_STREAM}, not {rule.operation}"
    models = list(catalogue)
    if rule.model_id is not None:
        found = catalogue.find(rule.model_id)
        if found is None:
            ids = [version.id for contract in models for version in contract.models]
            return (f"'model_id' {rule.model_id!r} is no model the mock serves"
                    + did_you_mean(rule.model_id, ids))
        models = [found.contract]
    if rule.finish_reason is not None:
        reasons = finish_reasons(models)
        if rule.finish_reason not in reasons:
            whose = f"{rule.model_id}'s answers" if rule.model_id else "any model's answers"
            return (f"'finish_reason' {rule.finish_reason!r} is not among {whose} "
                    f"({', '.join(reasons) or 'none but success'})"
                    + did_you_mean(rule.finish_reason, reasons))
    if (rule.prompt is not None or rule.prompt_regex is not None) and not any(
            contract.prompts.fields for contract in models):
        return f"{rule.model_id} takes no prompt, so a prompt condition never holds"
    return None


def finish_reasons(models: Iterable[ModelContract]) -> list[str]:
    """The finish reasons other than success that the models' answers can carry."""
    found: dict[str, None] = {}
    for contract in models:
        for reason in contract.finish_reasons[1:]:
            if reason is not None:
                found[reason] = None
    return list(found)
