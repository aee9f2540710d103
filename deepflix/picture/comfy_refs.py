"""The cast's portraits wired into a ComfyUI workflow's numbered reference slots.

A ``cast_*`` workflow has slots 1..N, one per character present (in the scene's order):
``reference j`` (LoadImage) gets that character's portrait sheet, uploaded as it is;
``figure j`` (ImageCrop) the part of the sheet with the full figure; ``fit j`` (ImageScale)
and ``place j`` (ImageCompositeMasked) its size and place in the frame; ``character j``
(CLIPTextEncode) their description; ``region j`` (ConditioningSetArea or MaskComposite) and
``box j`` (SolidMask) the region they stand in. Regions come from the illustrator's figure
boxes for the scene (where it draws each character), else even columns. Slots beyond the
characters present are dropped (``comfy.slots``); characters beyond the slots get none."""

from __future__ import annotations

import hashlib
from typing import Any

import cv2
import numpy as np

from ..comfy.server import ComfyServer
from ..comfy.slots import keep_slots, slot_count, slot_nodes
from ..errors import ProviderBadOutput
from ..models import PictureRequest
from ..provider import StageContext
from .illustrator import render
from .portrait import sheet_figure_box
from .prompts import character_fragment

Box = tuple[int, int, int, int]  # x, y, w, h in the generation frame


def regions(request: PictureRequest, width: int, height: int, n: int) -> list[Box]:
    """Where each of the first ``n`` characters stands: the illustrator's box for them in this
    scene drawn at the generation size, or the j-th of ``n`` even columns when it draws none."""

    drawn = render(request.model_copy(update={"width": width, "height": height, "references": []})).figure_boxes
    out: list[Box] = []
    for j, ch in enumerate(request.characters[:n]):
        box = drawn.get(ch.id)
        if box and box[2] > 0 and box[3] > 0:
            out.append((int(box[0]), int(box[1]), int(box[2]), int(box[3])))
        else:
            col = width // n
            out.append((j * col, int(height * 0.15), col, height - int(height * 0.15)))
    return out


def _area(box: Box, width: int, height: int) -> Box:
    """A box as ConditioningSetArea takes it: multiples of 8, at least 64 wide and high, inside the frame."""
    def snap(v: int, lo: int, hi: int) -> int:
        return max(lo, min(hi, (v // 8) * 8))

    w, h = snap(box[2], 64, max(64, width)), snap(box[3], 64, max(64, height))
    return snap(box[0], 0, max(0, width - w)), snap(box[1], 0, max(0, height - h)), w, h


def wire_references(server: ComfyServer, wf: dict[str, Any], request: PictureRequest, ctx: StageContext,
                    width: int, height: int) -> dict[str, Any]:
    """``wf`` with one slot per character present, each fed that character's uploaded portrait."""
    slots = slot_count(wf, "reference")
    if not slots:
        return wf
    refs = request.references[:slots]
    wf = keep_slots(wf, len(refs))
    boxes = regions(request, width, height, len(refs)) if refs else []
    for j, (ref, box, ch) in enumerate(zip(refs, boxes, request.characters, strict=False), 1):
        data = ctx.path(ref).read_bytes()
        sheet = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if sheet is None:
            raise ProviderBadOutput(f"the portrait of {ch.name} ({ref.key[:12]}…) is not a readable image")
        # named by content: the same portrait is one file on the server however many scenes use it
        name = server.upload(data, f"deepflix_portrait_{hashlib.sha256(data).hexdigest()[:20]}.png")
        fx, fy, fw, fh = sheet_figure_box(sheet)
        x, y, w, h = box
        # the figure scaled to the region's height, centred on it, inside the frame
        sw = max(1, min(width, round(fw * h / max(1, fh))))
        px = max(0, min(width - sw, x + w // 2 - sw // 2))
        ax, ay, aw, ah = _area(box, width, height)
        for node in slot_nodes(wf, "reference", j):
            node["inputs"]["image"] = name
        for node in slot_nodes(wf, "figure", j):
            node["inputs"].update(x=fx, y=fy, width=fw, height=fh)
        for node in slot_nodes(wf, "fit", j):
            node["inputs"].update(width=sw, height=max(1, h))
        for node in slot_nodes(wf, "place", j):
            node["inputs"].update(x=px, y=max(0, y))
        for node in slot_nodes(wf, "character", j):
            node["inputs"]["text"] = character_fragment(ch)
        for node in slot_nodes(wf, "region", j):
            node["inputs"].update(x=ax, y=ay, **({"width": aw, "height": ah}
                                                 if node["class_type"] == "ConditioningSetArea" else {}))
        for node in slot_nodes(wf, "box", j):
            node["inputs"].update(width=aw, height=ah)
    return wf
