"""Paths the unit tests share: the checkout, the upstream release files beside it, the collections path.

`make unit` runs from the checkout (upstream files at ../shared/upstream, the collection linked under
.venv/collections); `ansible-test units` runs from a copy laid out as .../ansible_collections/kubelayer/runtime, next
to which tests/utils/ansible-test.sh links ../shared as .../ansible_collections/kubelayer/shared.
"""
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def upstream_dir():
    candidate = os.path.join(os.path.dirname(REPO), "shared", "upstream")
    if not os.path.isdir(candidate):
        raise AssertionError("upstream release files not found at %s (shared/ beside the checkout)" % candidate)
    return candidate


def collections_path():
    parent = os.path.dirname(os.path.dirname(REPO))
    if os.path.basename(parent) == "ansible_collections":
        return os.path.dirname(parent)
    return os.path.join(REPO, ".venv", "collections")
