"""A finding: one contradiction a viewer would notice, where it is, and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Finding:
    kind: str  # age | relationship | time | weather | place | indoor | clothing | speaker | introduction
    message: str
    scene: int | None = None  # 1-based; None: the whole story (a character sheet)
    character: str | None = None  # a character id

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"scene {self.scene}" if self.scene else "cast"
        who = f" [{self.character}]" if self.character else ""
        return f"{where}{who}: {self.kind}: {self.message}"
