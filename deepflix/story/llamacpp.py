"""Stories from a GGUF model run in process (``llamacpp/local``): llama.cpp through cyllama,
which ships manylinux wheels on PyPI (llama-cpp-python has none and compiles for ~17 min).

Every reply is JSON of the story schema: the schema (``llm.story_schema``, bounded here:
exactly the scenes asked for, 1-4 characters, string lengths, integer intensity and
duration) is turned into a GBNF grammar, and llama.cpp's grammar sampler lets through only
the tokens that keep the reply inside it. A later chunk's grammar allows only the fixed
cast's ids as speakers and characters, and no new cast. ``repair_story`` then maps the
reply onto a ``Story`` (voices, looks, intensity 0-10 to 0-1), as for the other LLMs.

Settings: DEEPFLIX_LLAMACPP_MODEL (the .gguf path) and DEEPFLIX_LLAMACPP_THREADS; or the
provider options ``model`` and ``threads``. The same request and seed give the same story."""

from __future__ import annotations

import copy
import os
import threading
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from ..core import config
from ..errors import InvalidInput, ProviderError
from ..hookspecs import Register, hookimpl
from ..lazy import lazy_module
from ..models import Character, StoryRequest
from .llm import LLMOptions, LLMStoryProvider, Reply, story_schema

llama = lazy_module("cyllama.llama.llama_cpp")  # the llm extra; None without it
schema_to_grammar = lazy_module("cyllama.utils.json_schema_to_grammar")

_lock = threading.Lock()  # one generation at a time: llama.cpp's threads already use the cores
_models: dict[str, Any] = {}  # path -> the loaded model, kept for the life of the process
_chunk = threading.local()  # the chunk being written (its scene count and any fixed cast): its grammar


class LlamaCppOptions(LLMOptions):
    model: str | None = Field(None, description="the GGUF file; overrides DEEPFLIX_LLAMACPP_MODEL")
    max_tokens: int = Field(4096, ge=64, le=64000)
    threads: int | None = Field(None, ge=1, le=512, description="overrides DEEPFLIX_LLAMACPP_THREADS")
    context: int = Field(8192, ge=512, le=131072, description="the context window, in tokens")
    max_text: int = Field(420, ge=40, le=4000, description="the longest narration, in characters; "
                                                           "the other text fields in proportion")
    max_characters: int = Field(4, ge=1, le=8, description="the most characters a story may have")


def _text(limit: int, floor: int = 1) -> dict[str, Any]:
    return {"type": "string", "minLength": min(floor, limit), "maxLength": max(limit, 1)}


def grammar_schema(count: int, cast: list[Character] | None, max_text: int, max_characters: int = 4) -> dict[str, Any]:
    """The story schema with the bounds a grammar can hold a small model to."""
    s = copy.deepcopy(story_schema())
    ch, sc = s["properties"]["characters"], s["properties"]["scenes"]

    def part(f: float) -> int:
        return max(12, int(max_text * f))

    s["properties"]["title"] = _text(part(0.2), 2)
    s["properties"]["logline"] = _text(part(0.45), 10)
    ids: dict[str, Any] = {"type": "string", "pattern": "^[a-z][a-z0-9_]{1,15}$"}
    if cast:  # a later chunk: the cast is fixed, so its ids are the only ones, and none is written again
        ids = {"type": "string", "enum": [c.id for c in cast]}
        s["properties"]["characters"] = {"type": "array", "items": ch["items"], "maxItems": 0}
    else:
        ch.update(minItems=1, maxItems=max_characters)
        props = ch["items"]["properties"]
        props["id"] = ids
        for k in ("name", "role"):
            props[k] = _text(part(0.12), 2)
        for k in ("base_traits", "facial_features", "clothing", "distinctive_features"):
            props[k] = _text(part(0.3), 4)
    sc.update(minItems=count, maxItems=count)
    props = sc["items"]["properties"]
    props["scene_description"] = _text(part(0.6), 10)
    props["atmosphere"] = _text(part(0.12), 3)
    props["location"] = _text(part(0.15), 3)
    props["characters"] = {"type": "array", "items": ids, "maxItems": 4}
    props["narration"] = _text(max_text, min(60, max_text // 2))
    line = props["dialogue"]["items"]
    line["properties"] = {"speaker": ids, "text": _text(part(0.3), 2)}
    props["dialogue"] = {"type": "array", "items": line, "maxItems": 2}
    # integers: a number's digits are unbounded in a grammar; repair_story reads 7 as 0.7
    props["music"]["properties"]["intensity"] = {"type": "integer", "minimum": 0, "maximum": 10}
    props["duration"] = {"type": "integer", "minimum": 3, "maximum": 60}
    return s


def story_grammar(count: int, cast: list[Character] | None, max_text: int, max_characters: int = 4) -> str:
    gbnf = schema_to_grammar.json_schema_to_grammar(grammar_schema(count, cast, max_text, max_characters))
    # one space at most between tokens (the converter allows newlines and indents): fewer tokens to write
    return "\n".join('space ::= | " "' if ln.startswith("space ::=") else ln for ln in gbnf.splitlines())


def model_path(name: str | None) -> Path:
    if not name:
        raise InvalidInput("llamacpp/local needs a GGUF model: set DEEPFLIX_LLAMACPP_MODEL to the .gguf file's path "
                           "(or the provider option model)")
    path = Path(name).expanduser()
    if not path.is_file():
        raise InvalidInput(f"llamacpp/local: no GGUF file at {path}; set DEEPFLIX_LLAMACPP_MODEL to an existing file")
    return path


def _load(path: Path) -> Any:
    if llama is None:
        raise ProviderError("llamacpp/local needs cyllama (llama.cpp for Python): pip install 'deepflix[llm]'")
    key = str(path.resolve())
    if key not in _models:
        llama.disable_logging()  # llama.cpp logs every tensor to stderr
        llama.llama_backend_init()
        try:
            _models[key] = llama.LlamaModel(key)
        except Exception as exc:  # noqa: BLE001 (cyllama raises plain errors for a file that is not a model)
            raise InvalidInput(f"llamacpp/local cannot load {path} as a GGUF model: {exc}") from exc
    return _models[key]


class LlamaCppStoryProvider(LLMStoryProvider):
    """Stories from a local GGUF model, in process, constrained to the story's JSON."""

    provider_id = "llamacpp/local"
    version = "1"
    needs_key: ClassVar[bool] = False
    vendor = "llama.cpp"
    Options = LlamaCppOptions
    options: LlamaCppOptions

    def model_name(self) -> str:
        return self.options.model or config.settings.deepflix_llamacpp_model or ""

    def cache_identity(self) -> dict[str, Any]:
        name = self.model_name()
        size = os.path.getsize(name) if name and os.path.isfile(name) else None
        return {**super().cache_identity(), "model": Path(name).name if name else None, "model_bytes": size,
                "max_text": self.options.max_text, "max_characters": self.options.max_characters}

    def get_key(self) -> str:
        return ""

    def threads(self) -> int:
        return self.options.threads or config.settings.deepflix_llamacpp_threads or os.cpu_count() or 1

    def health(self) -> dict[str, Any]:
        name = self.model_name()
        ok = llama is not None and bool(name) and os.path.isfile(name)
        return {"provider": self.provider_id, "ok": ok, "model": name or None, "threads": self.threads(),
                "runtime": "cyllama" if llama is not None else "missing: pip install 'deepflix[llm]'"}

    def _start(self, system: str, user: str) -> dict[str, Any]:
        return {"messages": [("system", system), ("user", user)]}

    def _write(self, request: StoryRequest, start: int, count: int, cast: list[Character] | None,
               previous: list[Any]) -> Any:
        _chunk.value = (count, cast)
        return super()._write(request, start, count, cast, previous)

    def _ask(self, conversation: dict[str, Any], request: StoryRequest) -> Reply:
        opts = self.options
        count, cast = _chunk.value
        model = _load(model_path(self.model_name()))
        grammar = story_grammar(count, cast, opts.max_text, opts.max_characters)
        with _lock:
            text, truncated = self._generate(model, conversation["messages"], grammar, request.seed, opts)
        return Reply(payload=text, truncated=truncated, raw=text)

    def _generate(self, model: Any, messages: list[tuple[str, str]], grammar: str, seed: int,
                  opts: LlamaCppOptions) -> tuple[str, bool]:
        vocab = model.get_vocab()
        template = model.get_default_chat_template()
        if template:
            prompt = model.chat_apply_template(template, [llama.LlamaChatMessage(role=r, content=c)
                                                          for r, c in messages], True)
        else:  # a model without a chat template: plain turns
            prompt = "".join(f"{r}: {c}\n" for r, c in messages) + "assistant: "
        tokens = vocab.tokenize(prompt, add_special=not template, parse_special=True)
        if len(tokens) + opts.max_tokens > opts.context:
            raise ProviderError(f"llamacpp/local: the prompt ({len(tokens)} tokens) and max_tokens ({opts.max_tokens}) "
                                f"do not fit the context of {opts.context}; raise the option context")
        params = llama.LlamaContextParams()
        params.n_ctx, params.n_batch = opts.context, 512
        params.n_threads = params.n_threads_batch = self.threads()
        params.no_perf = True
        ctx = llama.LlamaContext(model, params)
        chain = llama.LlamaSamplerChainParams()
        chain.no_perf = True
        sampler = llama.LlamaSampler(chain)
        sampler.add_grammar(vocab, grammar, "root")  # first: the rest choose among what the grammar allows
        sampler.add_penalties(64, 1.1, 0.0, 0.0)
        sampler.add_top_k(40)
        sampler.add_top_p(0.95, 1)
        sampler.add_min_p(0.05, 1)
        sampler.add_temp(opts.temperature)
        sampler.add_dist(seed & 0xFFFFFFFF)
        for i in range(0, len(tokens), 512):
            ctx.decode(llama.llama_batch_get_one(tokens[i:i + 512], i))
        pos = len(tokens)
        out: list[str] = []
        for _ in range(opts.max_tokens):
            tok = sampler.sample(ctx, -1)
            if vocab.is_eog(tok):
                return "".join(out), False
            out.append(vocab.token_to_piece(tok, special=False))
            ctx.decode(llama.llama_batch_get_one([tok], pos))
            pos += 1
        return "".join(out), True

    def _feedback(self, conversation: dict[str, Any], reply: Reply, message: str) -> dict[str, Any]:
        return {**conversation, "messages": conversation["messages"] + [
            ("assistant", str(reply.raw or "")[:20000]), ("user", message)]}


@hookimpl
def register_story_providers(register: Register) -> None:
    register(LlamaCppStoryProvider)
