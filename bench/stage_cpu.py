"""`python -m deepflix ARGS`, with the CPU each stage's rows cost written to $STAGE_CPU_OUT.

bench/make.py runs its first run through this to say where the CPU over the
encode-only floor goes. Per stage: the CPU time of the threads that ran its rows
(``run_stage``: the provider's own thread; a stage's helper threads, such as the
segment's pipe writer, and its ffmpegs are not in it). Besides: the QA after
``make`` (its thread, and its ffmpegs), and the whole process and all its ffmpegs.
Usage: STAGE_CPU_OUT=cpu.json python bench/stage_cpu.py make PROMPT ...
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from typing import Any

from deepflix import cli
from deepflix.cli import make as make_cmd
from deepflix.pipeline import film as local

CPU: dict[str, float] = {}
_lock = threading.Lock()
_run_stage = getattr(local, "run_stage")  # noqa: B009  (as the runner calls it)
_write_qa = make_cmd._write_qa  # `make` calls it by this name


def _children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_stage(name: str, *args: Any, **kwargs: Any) -> Any:
    c0 = time.thread_time()
    try:
        return _run_stage(name, *args, **kwargs)
    finally:
        with _lock:
            CPU[name] = CPU.get(name, 0.0) + time.thread_time() - c0


def write_qa(*args: Any, **kwargs: Any) -> None:
    c0, k0 = time.thread_time(), _children()
    try:
        _write_qa(*args, **kwargs)
    finally:
        CPU["qa"], CPU["qa ffmpeg"] = time.thread_time() - c0, _children() - k0


def main() -> None:
    setattr(local, "run_stage", run_stage)  # noqa: B010  (the runner's own name for it, wrapped)
    setattr(make_cmd, "_write_qa", write_qa)  # noqa: B010
    sys.argv = ["deepflix", *sys.argv[1:]]
    try:
        cli.main()
    finally:
        me = resource.getrusage(resource.RUSAGE_SELF)
        CPU["process"], CPU["ffmpeg"] = me.ru_utime + me.ru_stime, _children()
        with open(os.environ["STAGE_CPU_OUT"], "w") as f:
            json.dump(CPU, f)


if __name__ == "__main__":
    main()
