import os
import sys
from pathlib import Path

import pytest

sys._called_from_test = True  # type: ignore[attr-defined]  # skip third-party entry points (llm's trick)


@pytest.fixture(autouse=True, scope="session")
def _data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test session gets its own store and database, never the user's."""
    d = tmp_path_factory.mktemp("deepflix-data")
    os.environ["DEEPFLIX_DATA_DIR"] = str(d)
    from deepflix.core import config

    config.reload_settings()
    return d
