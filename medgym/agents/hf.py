"""A local Hugging Face causal LM as a policy (the default model, or any chat model directory).

    policy = HFPolicy()                                   # the default model (built by `medgym model build`)
    policy = HFPolicy("path/to/Qwen2.5-0.5B-Instruct", adapter="runs/lora", temperature=0.7)
    info, reward, steps = play(env, policy)

The chat so far (`info["messages"]`) and the offered tools (`info["tools"]`) are
rendered with the model's own chat template; the model's reply, up to its
end-of-turn token, is the action. `constrain_tool_names=True` lets a tool call
name only the offered tools (medgym.tools.constrain). Device and dtype are chosen automatically:
CUDA with bfloat16 when available, else Apple MPS, else CPU in float32.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from medgym.agents.base import Action
from medgym.encounter import stable_seed
from medgym.tools.constrain import ToolNames, tool_names


def pick_device(device: str | None = None) -> str:
    """`device`, or the best available one: cuda, then mps, then cpu."""
    import torch

    if device:
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str, dtype: str | Any | None = None) -> Any:
    """`dtype`, or bfloat16 on a GPU that supports it and float32 elsewhere."""
    import torch

    if dtype is not None:
        return getattr(torch, dtype) if isinstance(dtype, str) else dtype
    if device.startswith("cuda") and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def load_model(
    path: str | Path | None = None,
    adapter: str | Path | None = None,
    device: str | None = None,
    dtype: str | Any | None = None,
) -> tuple[Any, Any]:
    """Load a local model directory (default: the built default model) and its tokenizer, with an
    optional LoRA adapter (peft). Errors say what is missing and how to fix it."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from medgym.models.build import default_model_dir

    folder = Path(path) if path is not None else default_model_dir()
    if not folder.is_dir():
        hint = "build it with `medgym model build`" if path is None else "pass a local Hugging Face model directory"
        raise FileNotFoundError(f"no model directory at {folder}; {hint} (nothing is downloaded)")
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(
            f"{folder} is not a Hugging Face model directory (no config.json); pass the folder that "
            "`save_pretrained` wrote, or build the default model with `medgym model build`"
        )
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if getattr(tokenizer, "chat_template", None) is None:
        raise ValueError(
            f"the tokenizer in {folder} has no chat template, so it cannot render the encounter; use a chat/instruct "
            "model, or set tokenizer.chat_template and save it (medgym.models.tokenizer.chat_template() is one)"
        )
    where = pick_device(device)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=pick_dtype(where, dtype)).to(where)
    if adapter is not None:
        from peft import PeftModelForCausalLM

        if not (Path(adapter) / "adapter_config.json").is_file():
            raise FileNotFoundError(f"no LoRA adapter at {adapter} (adapter_config.json missing); pass the folder "
                                    "that peft's save_pretrained wrote")
        # a policy is a causal LM, whatever task type the adapter's config names (generate() needs this class)
        model = PeftModelForCausalLM.from_pretrained(model, str(adapter)).to(where)
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


class HFPolicy:
    """A local causal LM playing encounters through its chat template."""

    name = "hf"

    def __init__(
        self,
        model: str | Path | Any | None = None,
        tokenizer: Any | None = None,
        adapter: str | Path | None = None,
        device: str | None = None,
        dtype: str | Any | None = None,
        temperature: float = 0.0,
        top_p: float = 1.0,
        top_k: int = 0,
        max_new_tokens: int = 256,
        seed: int = 0,
        end_of_turn: str | None = None,
        constrain_tool_names: bool = False,
    ) -> None:
        if model is None or isinstance(model, (str, Path)):
            self.model, self.tokenizer = load_model(model, adapter, device, dtype)
        else:
            if tokenizer is None:
                raise ValueError("pass the tokenizer together with a model object: HFPolicy(model, tokenizer)")
            self.model, self.tokenizer = model, tokenizer
        if getattr(self.tokenizer, "chat_template", None) is None:
            raise ValueError("the tokenizer has no chat template; use a chat/instruct model's tokenizer")
        self.temperature, self.top_p, self.top_k = temperature, top_p, top_k
        self.max_new_tokens, self.seed = max_new_tokens, seed
        self.end_of_turn = end_of_turn or self.tokenizer.eos_token
        self.names = ToolNames(self.tokenizer) if constrain_tool_names else None
        self.tools: list[dict[str, Any]] = []
        self._episode = ""

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self.tools = info.get("tools", [])
        self._episode = info.get("task_id", "")

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        import torch

        messages = info["messages"]
        text = self.tokenizer.apply_chat_template(messages, tools=self.tools or None, tokenize=False,
                                                  add_generation_prompt=True)
        ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"].to(self.model.device)
        sample = self.temperature > 0
        torch.manual_seed(stable_seed("hf-policy", self.seed, self._episode, len(messages)) % 2**63)
        end_id = self.tokenizer.convert_tokens_to_ids(self.end_of_turn)
        allowed = self.names.prefix_fn(ids.shape[1], tool_names(self.tools)) if self.names else None
        with torch.inference_mode():
            out = self.model.generate(
                ids, attention_mask=torch.ones_like(ids), max_new_tokens=self.max_new_tokens, do_sample=sample,
                temperature=self.temperature if sample else None, top_p=self.top_p if sample else None,
                top_k=self.top_k if sample else None, eos_token_id=end_id, pad_token_id=self.tokenizer.pad_token_id,
                prefix_allowed_tokens_fn=allowed,
            )
        new = out[0, ids.shape[1]:].tolist()
        if new and new[-1] == end_id:
            new = new[:-1]
        return self.tokenizer.decode(new, skip_special_tokens=False, clean_up_tokenization_spaces=False)
