# kubelayer.runtime: the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
# the second toolset: kubespray's ansible (ansible-core 2.18), for `make core218`
VENV218 := $(ROOT)/.venv-core218
PY ?= python3
export PATH := $(VENV)/bin:$(PATH)
export CONTAINERS_CONF := $(ROOT)/lab/containers.conf
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(VENV)/collections
export PYTHONDONTWRITEBYTECODE := 1
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
# Upstream release files: this checkout's sibling ../shared/upstream, when it exists and nothing else is set, is used
# as an air-gapped directory (the same override a user has); otherwise the pinned URLs (or
# KUBELAYER_UPSTREAM_MIRROR_URL) are downloaded into the controller cache.
ifeq ($(origin KUBELAYER_UPSTREAM_DIR)$(KUBELAYER_UPSTREAM_MIRROR_URL),undefined)
ifneq ($(wildcard $(ROOT)/../shared/upstream/calico-v3.32.1/canal.yaml),)
export KUBELAYER_UPSTREAM_DIR := $(abspath $(ROOT)/../shared/upstream)
endif
endif

RELEASES := bookworm trixie forky
SCENARIOS ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
APT_PACKAGES := podman runc debootstrap uidmap slirp4netns iproute2 rsync shellcheck python3-venv git make graphviz

.PHONY: help deps venv venv-core218 core218 images lab-up lab-down demo docs quick unit sanity lint molecule collection faults hostile test bench build clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

deps: ## install the host packages the lab needs (apt)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "apt: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi

# No root needed: only python3 with its venv module (Debian: python3-venv, which `make deps` installs).
$(VENV)/.stamp: requirements.txt
	@$(PY) -c 'import ensurepip, venv' 2>/dev/null || { echo "$(PY) cannot create a venv: run 'make deps' as root (apt: python3-venv)" >&2; exit 1; }
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	mkdir -p $(VENV)/collections/ansible_collections/kubelayer
	ln -sfn ../../../.. $(VENV)/collections/ansible_collections/kubelayer/runtime
	$(VENV)/bin/python tests/utils/ansible_test_getpip.py install
	touch $@

venv: $(VENV)/.stamp ## create .venv with the pinned controller tools

$(VENV218)/.stamp: requirements-core218.txt
	$(PY) -m venv $(VENV218)
	$(VENV218)/bin/pip install -q --disable-pip-version-check -r requirements-core218.txt
	mkdir -p $(VENV218)/collections/ansible_collections/kubelayer
	ln -sfn ../../../.. $(VENV218)/collections/ansible_collections/kubelayer/runtime
	touch $@

venv-core218: $(VENV218)/.stamp ## create .venv-core218 with kubespray's ansible (ansible-core 2.18), no root needed

images: deps venv ## build (or reuse) the lab node images (in parallel; cached by recipe hash)
	@pids=""; for r in $(RELEASES); do lab/build-image.sh $$r & pids="$$pids $$!"; done; \
	rc=0; for p in $$pids; do wait $$p || rc=1; done; exit $$rc

lab-up: images ## start the 3-node demo lab
	lab/lab.sh up

lab-down: ## remove the demo lab
	lab/lab.sh down

demo: lab-up ## build the lab, run the site playbook on 3 nodes, print the summary
	ansible-playbook -i inventories/lab/hosts.yml playbooks/site.yml

docs: venv ## regenerate docs/modules/*.md and the role variable references (the unit tests fail on any drift)
	$(VENV)/bin/python tests/utils/reference_docs.py

quick: venv ## the inner loop: pure-logic tests in parallel, small hypothesis budgets, no slow tests (< 30 s)
	HYPOTHESIS_PROFILE=quick tests/utils/run-pytest.sh -n auto -m "not slow" tests/unit

unit: venv ## every unit and property test, in parallel, full hypothesis budgets (the unit stage of make test)
	tests/utils/run-pytest.sh -n auto tests/unit

sanity: venv ## ansible-test sanity (validate-modules, import, pylint, yamllint, ...)
	tests/utils/ansible-test.sh sanity

lint: venv ## ansible-lint, production profile
	ansible-lint --offline

molecule: images ## every molecule scenario against the lab images
	@set -e; for s in $(SCENARIOS); do echo "=== molecule test -s $$s"; molecule test -s $$s; done

collection: venv ## build the tarball, install it offline, run its playbooks by FQCN
	tests/utils/run-pytest.sh tests/collection

faults: images ## fault-injection tests against real lab nodes
	tests/utils/run-pytest.sh tests/faults

hostile: images ## hostile inputs through all ten real modules: no traceback, the option named, no file changed
	tests/utils/run-pytest.sh tests/hostile

# ansible-core 2.18 (kubespray's range is >=2.18,<2.19): the unit tests (small hypothesis profile: the properties
# already ran on 2.19), the collection test and the kubespray scenario, with the second toolset first on PATH
core218: venv-core218 images ## unit, collection and kubespray-scenario tests on ansible-core 2.18
	PATH=$(VENV218)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(VENV218)/collections HYPOTHESIS_PROFILE=quick \
	  tests/utils/run-pytest.sh -n auto tests/unit tests/collection
	PATH=$(VENV218)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(VENV218)/collections molecule test -s kubespray

test: unit sanity lint collection molecule faults hostile core218 ## everything CI runs
	@echo "make test: all stages passed"

bench: images ## benchmarks: print the table
	$(VENV)/bin/python benchmarks/run.py

build: venv ## build the collection tarball
	ansible-galaxy collection build --force --output-path build/

clean: lab-down
	rm -rf build tests/output
