# Neural Network Animator. `make demo` and `make test` set themselves up on first use.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-done
PYTEST := $(PY) -m pytest -p no:pytest-blender

.PHONY: setup test test-core lint format bench plan demo clean web-bundle

setup: $(STAMP)
	@bash tools/setup_egl.sh
	@bash tools/setup_node.sh
	@bash tools/setup_chromium.sh

$(STAMP): requirements-dev.txt
	@bash tools/setup_python.sh $(PYTHON)
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

# The main job: train the article's network, build, render (preview) and export it, in out/. The
# video lasts as long as the original 2015 video: 13 cycles x 7 examples at 1 s each = 91 s.
DEMO_TIMING := --fps 12 --duration 91
demo: setup
	mkdir -p out
	@echo "demo: the article's network, its video fitted to the original video's length (91 s)"
	$(PY) -m nncore train --preset article $(DEMO_TIMING) --out out/article.plan.json
	$(PY) -m nn_animator render --plan out/article.plan.json --quality preview \
		--blend out/article.blend --stills out --video out/article.mp4 --gltf out/article.glb --web out/web
	@echo "demo: a 64-16-10 network learning to read handwritten digits (UCI, Alpaydin and Kaynak)"
	$(PY) -m nncore train --preset digits --fps 12 --out out/digits.plan.json
	$(PY) -m nn_animator render --plan out/digits.plan.json --quality preview \
		--stills out --video out/digits.mp4 --web out/web-digits

# The web page's viewer (web/src) and three.js bundled by esbuild into one classic script, vendored in
# web/vendor with three's licence (docs/web.md). Only needed after changing web/src or three's version.
web-bundle: setup
	bash tools/web_bundle.sh

clean:
	rm -rf out dist .pytest_cache .ruff_cache

# ---- The extension zip and a real Blender -------------------------------------------------------
# Every target that needs Blender takes BLENDER=/path/to/blender (4.2 or newer) to use your own;
# without it tools/find_blender.sh provides one (tools/get_blender.sh: a Debian chroot, needs root).
BLENDER ?=
EXT_ID      := $(shell sed -n 's/^id *= *"\([^"]*\)".*/\1/p' blender_manifest.toml)
EXT_VERSION := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' blender_manifest.toml)
ZIP         := dist/$(EXT_ID)-$(EXT_VERSION).zip

.PHONY: build validate blender test-blender test-matrix test-ui

# dist/nn_animator-<version>.zip with Blender's own builder (blender_ext.py from the bpy wheel, or
# `blender --command extension build` when BLENDER is given)
build: $(if $(BLENDER),,$(STAMP))
	@PY=$(PY) tools/extension.sh build

# the manifest and the zip through Blender's validator (validate, and server-generate for the zip)
validate: build
	@PY=$(PY) tools/extension.sh validate

# provide a real Blender (or check BLENDER=...): version >= 4.2 and Eevee can render; prints its path
blender:
	@tools/find_blender.sh --gl

# the add-on's tests (marker blender; the numpy-only ones need no Blender) inside a real Blender
# (pytest-blender), against the built zip installed as an extension in a temporary user folder;
# includes tests/test_blender_e2e.py
test-blender: setup build
	PY=$(PY) NNA_ZIP=$(ZIP) tools/test_blender.sh tests -m blender

# the real-window test: the built zip in a real Blender window on Xvfb, clicked through with simulated
# events from the factory startup file; screenshots and result.json in out/ui (tools/test_ui.sh)
test-ui: setup build
	PY=$(PY) NNA_ZIP=$(ZIP) tools/test_ui.sh

# the suite on bpy 4.2 LTS, 4.5 LTS, 5.0 (PyPI, venvs under .cache) and in the real Blender;
# ONLY=4.2,real picks some; prints a table (also in .cache/matrix/summary.md)
test-matrix: setup build
	$(PY) tools/test_matrix.py $(if $(ONLY),--only $(ONLY))
