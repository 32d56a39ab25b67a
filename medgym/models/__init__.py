"""The default policy: a small causal LM and a tokenizer, built and warm-started locally.

    medgym model build            # or: from medgym.models import build_default_model
"""

from medgym.models.build import build_default_model, build_info, default_model_dir, is_current
from medgym.models.config import BuildConfig

__all__ = ["BuildConfig", "build_default_model", "build_info", "default_model_dir", "is_current"]
