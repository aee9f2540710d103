"""API-format workflows: loading a shipped template or a user's file, and finding nodes by title."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InvalidInput


def load_workflow(name: str, *, package: str, templates: tuple[str, ...], who: str = "comfyui") -> dict[str, Any]:
    """A shipped template by name (``package``/``name``.json), or an API-format workflow file by path."""
    if name in templates:
        text = (resources.files(package) / f"{name}.json").read_text()
    else:
        path = Path(name).expanduser()
        if not path.is_file():
            raise InvalidInput(f"{who}: workflow {name!r} is neither a template ({', '.join(templates)}) nor a file")
        text = path.read_text()
    try:
        wf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{who}: workflow {name!r} is not JSON: {exc}") from exc
    if not isinstance(wf, dict) or not all(isinstance(n, dict) and "class_type" in n for n in wf.values()):
        raise InvalidInput(f"{who}: workflow {name!r} is not in API format (export it with 'Save (API)')")
    return wf


def title(node: dict[str, Any]) -> str:
    return str(node.get("_meta", {}).get("title", "")).lower()


def combo(spec: Any) -> list[str] | None:
    """A combo input's choices: ``[[...], {...}]`` (classic nodes) or ``["COMBO", {"options": [...]}]``."""
    if isinstance(spec, list) and spec:
        if isinstance(spec[0], list):
            return [str(c) for c in spec[0]]
        if spec[0] == "COMBO" and len(spec) > 1 and isinstance(spec[1], dict):
            return [str(c) for c in spec[1].get("options", [])]
    return None


def check_choice(info: dict[str, Any], wf: dict[str, Any], field: str, value: str) -> None:
    """A sampler or scheduler the server does not offer fails now, naming what it offers."""
    for node in wf.values():
        spec = info.get(node["class_type"], {}).get("input", {})
        choices = combo((spec.get("required", {}) or {}).get(field))
        if choices and value not in choices:
            raise InvalidInput(f"ComfyUI's {node['class_type']} has no {field} {value!r}; it offers {', '.join(choices)}")


def check_output_node(info: dict[str, Any], wf: dict[str, Any], name: str, *, save: tuple[str, ...] = ("SaveImage",)) -> None:
    """A workflow without an output node can never give a result: bad input, not worth a retry."""
    # PreviewImage is an output node too, but it writes to ComfyUI's temp folder, not its outputs
    if not any(n["class_type"] in save or (info.get(n["class_type"], {}).get("output_node")
                                           and not n["class_type"].startswith("Preview")) for n in wf.values()):
        raise InvalidInput(f"comfyui: workflow {name!r} has no output node: end it in a {' or '.join(save)} node")
