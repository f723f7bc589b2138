"""Make ``ansible_collections.kubelayer.runtime`` importable for plain pytest runs.

`make venv` links this checkout to .venv/collections/ansible_collections/kubelayer/runtime;
ansible-test units runs from its own copy and does not need this.
"""
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_COLLECTIONS = os.path.join(_ROOT, ".venv", "collections")
if os.path.isdir(os.path.join(_COLLECTIONS, "ansible_collections")) and _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)
