"""``sdxl models``: every model of the catalogue, its lifecycle and what it takes."""

from __future__ import annotations

import json
from typing import Any

import click

from bedrock_contract import ModelContract, ModelVersion, default_catalogue
from bedrock_contract.printable import printable
from sdxl_adapter.models import capabilities, replacement_for


def model_entry(contract: ModelContract, version: ModelVersion) -> dict[str, Any]:
    """One model id as ``sdxl models --json`` lists it."""
    found = default_catalogue().find(version.id)
    able = capabilities(contract)
    return {
        "id": version.id,
        "family": contract.family,
        "name": contract.name,
        "version": version.version,
        "lifecycle": version.lifecycle.to_json(),
        "replacement": replacement_for(found) if found else None,
        "described": version.described,
        "takes": list(able.takes) if version.described else [],
        "image_fields": list(able.image_fields),
        "output_formats": list(able.output_formats),
        "streaming": able.streaming,
        "inference_profiles": [f"{geo}.{version.id}" for geo in contract.inference_profiles],
    }


def _line(entry: dict[str, Any]) -> str:
    life = entry["lifecycle"]
    dates = ", ".join(f"{k} {life[k]}" for k in ("released", "legacy", "eol") if k in life)
    parts = [f"{entry['id']}  ({entry['name']}, family {entry['family']})",
             f"    lifecycle: {life['state']}" + (f" ({dates})" if dates else "")]
    if entry["replacement"]:
        parts.append(f"    replacement: {entry['replacement']}")
    if entry["described"]:
        takes = ", ".join(entry["takes"])
        if entry["image_fields"]:
            takes += f" (image fields: {', '.join(entry['image_fields'])})"
        parts.append(f"    takes: {takes}")
        parts.append(f"    output formats: {', '.join(entry['output_formats'])}; streaming: "
                     f"{'yes' if entry['streaming'] else 'no'}")
        if entry["inference_profiles"]:
            parts.append(f"    inference profiles: {', '.join(entry['inference_profiles'])}")
    else:
        parts.append("    retired: the service refuses this id; no contract describes it")
    return "\n".join(printable(part) for part in parts)  # a contract folder's own words


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array on stdout.")
def models(as_json: bool) -> None:
    """List every model id the catalogue knows: family, lifecycle state and dates, the
    replacement of a retired one, and what it takes (text or image to image, output
    formats, streaming). Pick one with `sdxl --model-id ID`."""
    entries = [model_entry(c, v) for c, v in default_catalogue().versions()]
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    click.echo("\n".join(_line(e) for e in entries))
