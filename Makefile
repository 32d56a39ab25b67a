# Two set-up commands (see README): `make run` and `make test`.
# Both create .venv on first use and refresh it only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export ANONYMIZED_TELEMETRY := False

.PHONY: run test lab venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name medgym --display-name "MedGym (.venv)" >/dev/null
	touch $(STAMP)

# The main job: the scripted clinician across every domain, then the default experiment (GRPO vs TT-OPD at
# smoke size from the default model, which is built once and cached); it prints where its report is.
run: $(STAMP)
	$(VENV)/bin/medgym kb build --small --no-progress
	$(VENV)/bin/medgym run
	$(VENV)/bin/medgym model build --quiet
	$(VENV)/bin/medgym experiment run experiments/grpo_vs_ttopd_smoke.yaml

test: $(STAMP)
	$(PY) -m pytest -q

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --no-browser notebooks/

clean:
	rm -rf $(VENV)
