"""The ``generate`` options that set InvokeModel's own parameters (service tier, latency,
guardrail, trace): one option per argument of :meth:`BedrockImageClient.generate`, its
values those botocore's model allows, and the model's own offer in its help.

A value is not refused by click: the command checks it as the service does
(:func:`sdxl_adapter.parameters.check_parameters`), so a refusal is the service's own
words and the exit code of a request refused locally.
"""

from __future__ import annotations

import click

from bedrock_contract import ModelContract
from bedrock_contract.input_check import header_members
from bedrock_contract.service import INVOKE
from sdxl_adapter.parameters import ARGUMENTS, allowed_values

_HELP = {
    "service_tier": "Service tier to serve the call in ('default' is the Standard tier, as "
                    "when the option is left out).",
    "latency": "Latency to serve the call with ('standard' unless the model offers "
               "latency-optimized inference).",
    "guardrail_id": "Identifier or ARN of an Amazon Bedrock guardrail to apply.",
    "guardrail_version": "Version of that guardrail: a number, or DRAFT.",
    "trace": "Whether the answer carries the guardrail's trace.",
}


def parameter_options(contract: ModelContract) -> list[click.Option]:
    """The options, their help naming the header each sets and what ``contract``'s model
    offers of it."""
    headers = header_members(INVOKE)
    options = []
    for argument, member in ARGUMENTS.items():
        values = allowed_values(member)
        text = f"{_HELP[argument]} Sent as {headers[member]}."
        offered = contract.invoke_parameters.get(member)
        if offered is not None:
            text += f" {contract.name} offers: {', '.join(offered)}."
        options.append(click.Option(
            [f"--{argument.replace('_', '-')}", argument],
            metavar=f"[{'|'.join(values)}]" if values else "TEXT", help=text,
        ))
    return options
