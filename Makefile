# `make run` and `make test` set themselves up on a machine with nothing but Python and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

# Is this directory installed in the venv (editable) at pyproject's version, with pyproject's
# requirements (and the test ones)? Exit 0: yes, and a newer pyproject.toml (a fresh clone's,
# beside a .venv linked to a venv made before) needs no reinstall, the stamp is renewed. Exit 2:
# yes, but from another clone (the linked venv's): only this clone is installed in its place,
# no dependency again. Anything else (no venv, a requirement changed) installs as before. -I:
# not the ledgerline_hub.egg-info a build leaves here, which has no direct_url.json.
define INSTALLED
import json, sys, tomllib
from importlib.metadata import distribution
from pathlib import Path
from packaging.requirements import Requirement
def key(text):
    r = Requirement(text)
    return (r.name.lower().replace("_", "-"), tuple(sorted(r.extras)), str(r.specifier))
project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
dist = distribution(project["name"])
url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
wanted = {key(t) for t in project["dependencies"] + project["optional-dependencies"]["test"]}
have = {key(t.split(";")[0]) for t in dist.requires or []
        if ";" not in t or t.split(";")[1].strip() in ('extra == "test"', "extra == 'test'")}
sys.exit(1 if dist.version != project["version"] or wanted != have
         else 2 if url != Path.cwd().resolve().as_uri() else 0)
endef
export INSTALLED

$(STAMP): pyproject.toml
	@status=1; [ -x $(BIN)/python ] && { $(BIN)/python -I -c "$$INSTALLED" 2>/dev/null; \
	    status=$$?; }; \
	if [ $$status = 0 ]; then \
	    echo "$(VENV) already has this project installed: not installing again"; \
	elif [ $$status = 2 ]; then \
	    echo "$(VENV) has another clone installed: installing this one, no dependency again"; \
	    $(BIN)/pip install --quiet --no-deps -e . || exit 1; \
	else \
	    set -e; \
	    $(PYTHON) -m venv $(VENV); \
	    $(BIN)/pip install --quiet --upgrade pip; \
	    $(BIN)/pip install --quiet -e '.[test]'; \
	fi
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/run_local.py

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check hub tests bench examples scripts
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/accept.py

clean:
	rm -rf $(VENV) hub.db hub.db-* .hub
