"""Numbered slots in an API-format workflow: the nodes titled "<role> N" (``reference 1``,
``region 2``, ``adapter 3`` ...) belong to the N-th input of a kind, such as the N-th
character's portrait. A workflow is written for a most number of them; a run that has fewer
drops the unused slots' nodes and rewires what used them to their pass-through input, so the
graph stays valid: a chain ``canvas -> place 1 -> place 2 -> sampler`` with one portrait
becomes ``canvas -> place 1 -> sampler``."""

from __future__ import annotations

import copy
import re
from typing import Any

from ..errors import InvalidInput
from .workflows import title

_SLOT = re.compile(r"^(.*\S)\s+(\d+)$")

# the input that carries a node's one output on when the node is left out (same type in and out)
PASSTHROUGH = {
    "ImageCompositeMasked": "destination", "ConditioningCombine": "conditioning_1",
    "ReferenceLatent": "conditioning", "IPAdapter": "model", "IPAdapterAdvanced": "model",
    "IPAdapterFaceID": "model", "ImageStitch": "image1", "ImageBatch": "image1",
}


def slot(node: dict[str, Any]) -> tuple[str, int] | None:
    """("reference", 2) for a node titled "reference 2"; None for a node in no slot."""
    m = _SLOT.match(title(node))
    return (m.group(1), int(m.group(2))) if m else None


def slot_count(wf: dict[str, Any], role: str) -> int:
    """How many ``role`` slots the workflow has (1..N, numbered without gaps)."""
    found = sorted({s[1] for n in wf.values() if (s := slot(n)) and s[0] == role})
    if found != list(range(1, len(found) + 1)):
        raise InvalidInput(f"comfyui: the workflow's {role!r} nodes are numbered {found}, not 1..{len(found)}")
    return len(found)


def slot_nodes(wf: dict[str, Any], role: str, n: int) -> list[dict[str, Any]]:
    """The nodes titled "``role`` ``n``"."""
    return [node for node in wf.values() if slot(node) == (role, n)]


def keep_slots(wf: dict[str, Any], keep: int) -> dict[str, Any]:
    """A copy without the nodes of the slots numbered above ``keep``; links to them follow their
    pass-through input (transitively), and a link that cannot be rewired is an error naming it."""
    wf = copy.deepcopy(wf)
    dropped = {nid for nid, node in wf.items() if (s := slot(node)) and s[1] > keep}

    def source(link: list[Any], seen: frozenset[str] = frozenset()) -> list[Any] | None:
        nid = str(link[0])
        if nid not in dropped:
            return link
        node = wf[nid]
        via = node["inputs"].get(PASSTHROUGH.get(node["class_type"], ""))
        if not _is_link(via) or nid in seen:
            return None
        return source(via, seen | {nid})

    for nid, node in wf.items():
        if nid in dropped:
            continue
        for name, value in list(node.get("inputs", {}).items()):
            if not _is_link(value):
                continue
            new = source(value)
            if new is None:
                gone = wf[str(value[0])]
                raise InvalidInput(f"comfyui: node {nid} ({node['class_type']}) takes {name!r} from "
                                   f"{gone['class_type']} {title(gone)!r}, an unused slot that has no pass-through")
            node["inputs"][name] = new
    for nid in dropped:
        del wf[nid]
    return wf


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str | int) and isinstance(value[1], int)
