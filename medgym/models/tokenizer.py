"""The default model's tokenizer: byte-level BPE trained locally with `tokenizers`.

It is wrapped as a `PreTrainedTokenizerFast` with the MedGym chat template
(`chat_template.jinja`: ChatML turns, compact tool schemas, tool calls in the
`<tool_call>{...}</tool_call>` format the environment parses) and a
`response_template` that lets `tokenizer.parse_response` (used by
`transformers serve` and TRL) turn generated text back into tool calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import Any

from transformers import PreTrainedTokenizerFast

PAD = "<|endoftext|>"
TURN_START = "<|im_start|>"
TURN_END = "<|im_end|>"
SPECIAL_TOKENS = [PAD, TURN_START, TURN_END]
# Single tokens that are ordinary text (not special): they survive `skip_special_tokens=True`.
TEXT_TOKENS = ["<tool_call>", "</tool_call>"]
# A run of words joined by single spaces ("Order a lab test.", "order_lab", "amoxicillin-clavulanate",
# "K35.80"); BPE merges stay inside such a run or inside the punctuation between runs.
WORD_RUN = r"[A-Za-z0-9_'.][A-Za-z0-9_'.\-]*(?: [A-Za-z0-9_'.][A-Za-z0-9_'.\-]*)*"

RESPONSE_TEMPLATE: dict[str, Any] = {
    "defaults": {"role": "assistant"},
    "start_anchor": "<|im_start|>assistant\n",
    "fields": {
        "tool_calls": {
            "open_pattern": r"\s*<tool_call>",
            "close": "</tool_call>",
            "repeats": True,
            "content": "json",
            "transform": {"type": "function", "function": "{content}"},
        },
        "content": {"close": TURN_END, "content": "text"},
    },
}


def chat_template() -> str:
    """The MedGym chat template (Jinja), read from the package data."""
    return resources.files("medgym.models").joinpath("chat_template.jinja").read_text(encoding="utf-8")


def train_tokenizer(
    texts: Iterable[str], vocab_size: int = 8192, max_token_chars: int = 32, max_length: int = 4096,
    word_runs: bool = True,
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on `texts` and wrap it with the chat template.

    Byte-level BPE encodes any text without unknown tokens and decodes it back
    exactly, which the rollout engine relies on (token ids are never re-tokenized).
    Merges may cross the spaces between words (the text the environment repeats in
    every episode, system prompt and tool descriptions, then costs a few tokens
    instead of hundreds, which keeps the tiny model cheap to train and to run on a
    CPU) but never a newline or a chat-control token. With `word_runs` (the
    default) they also never cross between a run of words and punctuation
    (`WORD_RUN`): a tool name, an enum value or a drug name is then the same tokens
    in the tool list, in a tool result and in the model's call
    (`{"name": "order_lab"` is `{"`, `name`, `": "`, `order_lab`, ...), so the model
    can copy it from its context. Without it, text is about 1.5x shorter but a call's
    tokens fuse name and JSON (`lab", "arguments": {"test": "`) and differ from the
    tool list's; the default model then invented tool names on held-out tasks (README).
    Because every turn boundary is a newline, a turn tokenized on its own gives the
    same ids as the whole conversation tokenized at once.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    if vocab_size < 512:
        raise ValueError(f"vocab_size must be at least 512 (256 bytes plus merges), got {vocab_size}")
    tok = Tokenizer(models.BPE())
    splits = [pre_tokenizers.Split(Regex(r"\n"), behavior="isolated")]
    if word_runs:
        splits.append(pre_tokenizers.Split(Regex(WORD_RUN), behavior="isolated"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [*splits, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        max_token_length=max_token_chars,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.add_tokens([AddedToken(t, normalized=False, special=False) for t in TEXT_TOKENS])
    return wrap(tok, max_length)


def wrap(tok: Any, max_length: int = 4096) -> PreTrainedTokenizerFast:
    """A `tokenizers.Tokenizer` as a transformers tokenizer with the MedGym chat and response templates."""
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=TURN_END,
        pad_token=PAD,
        model_max_length=max_length,
        padding_side="left",
        clean_up_tokenization_spaces=False,
        chat_template=chat_template(),
    )
    fast.response_template = RESPONSE_TEMPLATE
    return fast
