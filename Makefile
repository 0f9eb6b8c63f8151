# Neural Network Animator. `make demo` and `make test` set themselves up on first use.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-done
PYTEST := $(PY) -m pytest -p no:pytest-blender

.PHONY: setup test test-core lint format bench plan demo clean

setup: $(STAMP)
	@bash tools/setup_egl.sh
	@bash tools/setup_node.sh

$(STAMP): requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "setup: $(PYTHON) not found; install Python 3.11 (bpy 4.2-5.0 wheels need it)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@# make the repository importable as the package `nn_animator` (python -m nn_animator)
	mkdir -p $(VENV)/nna-path
	ln -sfn "$(CURDIR)" $(VENV)/nna-path/nn_animator
	echo "$(CURDIR)/$(VENV)/nna-path" > "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/nn_animator.pth"
	touch $@

test: setup
	$(PYTEST) tests

test-core: setup
	$(PYTEST) tests -m "not blender"

lint: setup
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: setup
	$(PY) bench/run.py

plan: setup
	mkdir -p out
	$(PY) -m nncore train --preset article --out out/article.plan.json

# The main job: train the article's network, build, render (preview) and export it, in out/.
DEMO_TIMING := --fps 12 --forward-seconds 0.5 --backward-seconds 0.5 --hold-seconds 0.25 --state-seconds 1.5
demo: setup
	mkdir -p out
	$(PY) -m nncore train --preset article $(DEMO_TIMING) --out out/article.plan.json
	$(PY) -m nn_animator render --plan out/article.plan.json --quality preview \
		--blend out/article.blend --stills out --video out/article.mp4 --gltf out/article.glb

clean:
	rm -rf out dist .pytest_cache .ruff_cache
