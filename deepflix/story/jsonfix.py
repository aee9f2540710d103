"""Read the JSON inside an LLM's reply, even when it is not quite JSON.

Models wrap JSON in prose and markdown fences, leave trailing commas and
comments, use single quotes or Python's True/None, forget to escape a quote
inside a string, and stop mid-object when they run out of tokens. ``loads``
tries the strict parser first and falls back to a forgiving recursive-descent
parser that accepts all of that: an unterminated string or object is closed
where the text ends, so a truncated reply still yields what it did say.
"""

from __future__ import annotations

import json
import re
from typing import Any


class JSONFixError(ValueError):
    """No JSON value could be found in the text at all."""


_FENCE = re.compile(r"```[ \t]*(?:json5?|javascript|js)?[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL | re.IGNORECASE)
_CONSTANTS = {"true": True, "false": False, "null": None, "none": None, "nan": None, "undefined": None,
              "infinity": None, "-infinity": None}
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}
_ENDERS = ",}]:\n/#"


def candidates(text: str) -> list[str]:
    """Where the JSON may be: fenced blocks first (largest first), then from the first brace on."""
    text = text.lstrip("\ufeff")
    blocks = [b.strip() for b in _FENCE.findall(text) if re.search(r"[{\[]", b)]
    out = sorted(blocks, key=len, reverse=True)
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if starts:
        out.append(text[min(starts):].strip())
    return out


def loads(text: str) -> Any:
    """The first JSON object or array in ``text``, repaired as needed."""
    cands = candidates(text)
    if not cands:
        raise JSONFixError("the reply contains no JSON object (no '{' found)")
    for cand in cands:
        try:
            return json.loads(cand)
        except ValueError:
            pass
    errors = []
    for cand in cands:
        try:
            value = _Parser(cand).parse()
        except JSONFixError as exc:
            errors.append(str(exc))
            continue
        if isinstance(value, (dict, list)):
            return value
    raise JSONFixError(errors[0] if errors else "no JSON object could be read from the reply")


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.n = len(text)

    def parse(self) -> Any:
        self._skip()
        if self.i >= self.n or self.s[self.i] not in "{[":
            raise JSONFixError("the reply's JSON does not start with '{' or '['")
        return self._value()

    # -------------------------------------------------------------- lexing
    def _skip(self) -> None:
        """Whitespace and comments (//, /* */, #)."""
        s, n = self.s, self.n
        while self.i < n:
            c = s[self.i]
            if c in " \t\r\n\ufeff":
                self.i += 1
            elif s.startswith("//", self.i) or c == "#":
                j = s.find("\n", self.i)
                self.i = n if j < 0 else j + 1
            elif s.startswith("/*", self.i):
                j = s.find("*/", self.i + 2)
                self.i = n if j < 0 else j + 2
            else:
                break

    def _value(self) -> Any:
        self._skip()
        if self.i >= self.n:
            return None
        c = self.s[self.i]
        if c == "{":
            return self._object()
        if c == "[":
            return self._array()
        if c in _QUOTES:
            return self._string()
        return self._bare()

    def _object(self) -> dict[str, Any]:
        self.i += 1
        out: dict[str, Any] = {}
        while True:
            self._skip()
            if self.i >= self.n:
                return out  # truncated: close it here
            c = self.s[self.i]
            if c == "}":
                self.i += 1
                return out
            if c in ",;":
                self.i += 1
                continue
            if c == "]":  # a stray bracket: treat as the end of this object
                self.i += 1
                return out
            if c in "{[":  # a new value where a key belongs: this object lost its "}"
                return out
            key = self._string() if c in _QUOTES else self._bare(key=True)
            self._skip()
            if self.i < self.n and self.s[self.i] in ":=":
                self.i += 1
            elif self.i >= self.n:
                return out  # truncated after a key: drop the key
            self._skip()
            if self.i >= self.n:
                return out
            out[str(key)] = self._value()

    def _array(self) -> list[Any]:
        self.i += 1
        out: list[Any] = []
        while True:
            self._skip()
            if self.i >= self.n:
                return out
            c = self.s[self.i]
            if c == "]":
                self.i += 1
                return out
            if c == ",":
                self.i += 1
                continue
            if c == "}":
                self.i += 1
                return out
            before = self.i
            out.append(self._value())
            if self.i == before:  # nothing consumed: skip the character to avoid looping
                self.i += 1

    def _string(self) -> str:
        s = self.s
        quote = s[self.i]
        close = _QUOTES[quote]
        self.i += 1
        buf: list[str] = []
        while self.i < self.n:
            c = s[self.i]
            if c == "\\" and self.i + 1 < self.n:
                nxt = s[self.i + 1]
                if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", s[self.i + 2:self.i + 6]):
                    buf.append(chr(int(s[self.i + 2:self.i + 6], 16)))
                    self.i += 6
                    continue
                buf.append({"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}.get(nxt, nxt))
                self.i += 2
                continue
            if c == close or (close == '"' and c == "”"):
                # a quote ends the string only if what follows could follow a string;
                # otherwise it is an unescaped quote inside the text ("he said "hi"")
                j = self.i + 1
                while j < self.n and s[j] in " \t\r":
                    j += 1
                if j >= self.n or s[j] in _ENDERS:
                    self.i += 1
                    return "".join(buf)
            buf.append(c)
            self.i += 1
        return "".join(buf)  # truncated inside a string

    def _bare(self, key: bool = False) -> Any:
        """Numbers, constants, and unquoted words (keys, or values an LLM forgot to quote)."""
        s = self.s
        stop = ":" if key else ",}]\n"
        j = self.i
        if not key and re.match(r"[-+]?(\d|\.\d)", s[self.i:self.i + 3]):
            stop += " \t\r"  # a number ends at whitespace: "[1 2 3]"
        while j < self.n and s[j] not in stop and not (key and s[j] in "{}[],"):
            if not key and s[j] in "{[":
                break
            j += 1
        word = s[self.i:j].strip()
        self.i = j if j > self.i else self.i + 1
        if key:
            return word.strip("\"'")
        low = word.lower()
        if low in _CONSTANTS:
            return _CONSTANTS[low]
        try:
            return int(word)
        except ValueError:
            pass
        try:
            return float(word)
        except ValueError:
            return word
