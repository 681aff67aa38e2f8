# One task file. `make` (= `make check`) runs exactly what CI runs.
UV ?= $(shell command -v uv >/dev/null 2>&1 && echo uv || echo "python3 -m uv")

.PHONY: check setup lint typecheck test bench-smoke demo bench fmt docs reads

check: setup lint typecheck test bench-smoke

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --extra spark

lint:
	$(UV) run ruff check src tests bench
	$(UV) run ruff format --check src tests bench

fmt:
	$(UV) run ruff check --fix src tests bench
	$(UV) run ruff format src tests bench

typecheck:
	$(UV) run mypy

# Two workers, each running whole files in order (their tests share module fixtures,
# and some follow one another, e.g. the web page's).
test:
	$(UV) run pytest -n 2 --dist loadfile --durations=12

# The benchmarks are not timed tests: CI only proves they run, at the smallest size.
bench-smoke:
	@if [ -f bench/run.py ]; then $(UV) run python bench/run.py --sizes 10000 --runs 1 --out bench/out/smoke; fi

bench:
	$(UV) run python bench/run.py

# The demo installs what cxport needs to run, not the development tools (`make check` does).
demo:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) run --frozen --no-dev cxport demo --serve

docs:
	$(UV) run python -m cxport.exports.catalogue_doc --lang en > docs/exports.md
	$(UV) run python -m cxport.exports.catalogue_doc --lang pt-BR > docs/exports.pt-BR.md

# What each SQL text of the program reads, parsed ahead (src/cxport/exports/reads.py).
reads:
	$(UV) run python -c "from cxport.exports.reads import main; main()"
