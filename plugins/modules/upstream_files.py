#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: upstream_files
short_description: Fetch, verify and cache the pinned upstream release files on the controller
version_added: 0.2.0
author: kubelayer.runtime developers (@kubelayer)
description:
  - "Runs on the controller (C(delegate_to: localhost), C(run_once: true))."
  - Every upstream release file the collection uses (Calico C(canal.yaml) v3.32.1, local-path-provisioner v0.0.37,
    the external-snapshotter v8.6.0 CRDs and snapshot-controller) is pinned in one catalog
    (C(plugins/module_utils/upstream/catalog.py)) with its release URL and sha256.
  - For each file of the requested O(files) groups the module uses the copy in O(cache_dir) when its sha256 matches;
    otherwise it reads the file from O(directory), or downloads it from O(mirror_url) or, with neither set, from
    its pinned release URL, checks the sha256 and writes it into the cache. A second run reads the cache only.
  - A copy whose sha256 differs from the pinned one is refused and never cached; the problem names the file and
    where it came from. Files that cannot be had are all named in one failure together with the variables that
    provide them (C(kubelayer_upstream_dir), C(kubelayer_upstream_mirror_url)).
  - The cache has the layout of O(directory) (C(<project>-<version>/<file>)), so a filled cache can be copied to an
    air-gapped controller as it is.
options:
  files:
    description:
      - The groups of files to provide.
      - V(canal) - C(calico-v3.32.1/canal.yaml). V(snapshot_crds) - the three VolumeSnapshot CRDs.
        V(snapshot_controller) - the snapshot-controller RBAC and Deployment. V(local_path) -
        C(local-path-provisioner-v0.0.37/local-path-storage.yaml).
    type: list
    elements: str
    choices: [canal, snapshot_crds, snapshot_controller, local_path]
    required: true
  directory:
    description:
      - An air-gapped directory holding the files at their relative paths (for example
        C(calico-v3.32.1/canal.yaml)). When set, nothing is downloaded.
      - Defaults to the environment variable C(KUBELAYER_UPSTREAM_DIR).
    type: path
  mirror_url:
    description:
      - A base URL serving the files at their relative paths (C(<mirror_url>/calico-v3.32.1/canal.yaml)); replaces
        the release URLs. Ignored when O(directory) is set.
      - Defaults to the environment variable C(KUBELAYER_UPSTREAM_MIRROR_URL).
    type: str
  cache_dir:
    description:
      - The controller cache the verified files are kept in (created when missing).
      - The environment variable C(KUBELAYER_UPSTREAM_CACHE_DIR) replaces the default.
    type: path
    default: ~/.cache/kubelayer/upstream
  validate_certs:
    description: Verify TLS certificates when downloading.
    type: bool
    default: true
  timeout:
    description: Timeout of each download, in seconds.
    type: int
    default: 30
attributes:
  check_mode:
    description:
      - Runs the same in check mode, cache included, so that the plans and check-mode diffs have their input. The
        cache is the controller's, not managed state, so the module always reports C(changed=false).
    support: full
  diff_mode:
    description: Changes no managed state, so there is nothing to diff.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - Helm charts are not in the catalog; their repository and version are pinned per driver (see C(docs/storage.md)).
seealso:
  - module: kubelayer.runtime.canal_manifest
  - module: kubelayer.runtime.csi_plan
"""

EXAMPLES = r"""
- name: Fetch and verify the Canal manifest (release URL, cached in ~/.cache/kubelayer/upstream)
  kubelayer.runtime.upstream_files:
    files: [canal]
  delegate_to: localhost
  run_once: true
  register: upstream

- name: Use it
  kubelayer.runtime.canal_manifest:
    src: "{{ upstream.files['calico-v3.32.1/canal.yaml'].path }}"
    checksum: "{{ upstream.files['calico-v3.32.1/canal.yaml'].sha256 }}"
    dest: /srv/build/canal
    plan: "{{ canal_plan_result.plan }}"
  delegate_to: localhost
  run_once: true

- name: Air-gapped, from a directory copied from a connected machine's cache
  kubelayer.runtime.upstream_files:
    files: [snapshot_crds, snapshot_controller, local_path]
    directory: /srv/mirror/upstream
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
cache_dir:
  description: The cache directory (absolute); pass it as C(upstream_dir) of M(kubelayer.runtime.csi_plan).
  returned: success
  type: str
  sample: /home/admin/.cache/kubelayer/upstream
files:
  description: Every provided file by relative path, with its cached C(path), C(sha256), C(group) and C(source).
  returned: success
  type: dict
  sample:
    calico-v3.32.1/canal.yaml:
      path: /home/admin/.cache/kubelayer/upstream/calico-v3.32.1/canal.yaml
      sha256: aa58a7b245586a90d75d969b9184326f6218acea7e4951ce2931113cd8e91e39
      group: canal
      source: cache
groups:
  description: The relative paths (keys of RV(files)) of each requested group.
  returned: success
  type: dict
  sample: {canal: [calico-v3.32.1/canal.yaml]}
fetched:
  description: Files read from the directory or downloaded by this run (the others came from the cache).
  returned: success
  type: list
  elements: str
problems:
  description: One line per file that could not be had or was refused.
  returned: failure
  type: list
  elements: str
"""

import os
from urllib.parse import urlparse

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.urls import fetch_url

from ansible_collections.kubelayer.runtime.plugins.module_utils._common.files import HostFileError, HostFiles, read_bytes
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail_if, problem
from ansible_collections.kubelayer.runtime.plugins.module_utils._common.validate import check_int, check_path, check_text
from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog, report


def _read(path):
    """(data, error) of a file of the air-gapped directory."""
    data = read_bytes(path)
    if data is None:
        return None, "no such file" if not os.path.lexists(path) else "cannot be read"
    return data, None


def _download(module, location, unreachable):
    """(data, error); a host that did not answer at all is not asked again (``unreachable``: netloc -> error)."""
    host = urlparse(location).netloc
    if host in unreachable:
        return None, "not tried, %s did not answer before: %s" % (host, unreachable[host])
    resp, info = fetch_url(module, location, timeout=module.params["timeout"])
    if resp is None or info.get("status") != 200:
        error = "%s %s" % (info.get("status"), info.get("msg"))
        if info.get("status") == -1:
            unreachable[host] = error
        return None, error
    try:
        return resp.read(), None
    except Exception as exc:  # pylint: disable=broad-except  # a broken connection mid-body
        return None, to_native(exc)


def _from_source(module, relpath, unreachable):
    """(option, location, data, error) of the file from the directory, the mirror or the release URL."""
    option, location = report.source(relpath, module.params["directory"], module.params["mirror_url"])
    if option == "directory":
        data, error = _read(location)
    else:
        data, error = _download(module, location, unreachable)
    return option, location, data, error


def provide(module, relpath, cache_dir, outcome):
    """Put one verified file into the cache (or find it there); record the outcome."""
    path = os.path.join(cache_dir, relpath)
    cached = read_bytes(path)
    if cached is not None and catalog.mismatch(relpath, cached) is None:
        outcome["files"][relpath] = dict(path=path, sha256=catalog.sha256(relpath), group=catalog.FILES[relpath][0],
                                         source="cache")
        return
    if cached is not None:
        module.warn("cache: %s did not match its pinned sha256 and is fetched again" % path)
    option, location, data, error = _from_source(module, relpath, outcome["unreachable"])
    if data is None:
        outcome["missing"].append(relpath)
        outcome["problems"].append(report.missing_problem(option, relpath, location, error))
        return
    actual = catalog.mismatch(relpath, data)
    if actual is not None:
        outcome["refused"].append(relpath)
        outcome["problems"].append(report.refused_problem(option, relpath, location, actual))
        return
    writes = HostFiles(prefix=".kubelayer-upstream.")
    writes.file("cache_dir", path, data, 0o644, root=cache_dir)
    problems = writes.problems()
    if not problems:
        try:
            writes.commit()
        except HostFileError as exc:
            problems = [exc.problem]
    if problems:
        outcome["missing"].append(relpath)
        outcome["problems"].extend(problems)
        return
    outcome["fetched"].append(relpath)
    outcome["files"][relpath] = dict(path=path, sha256=catalog.sha256(relpath), group=catalog.FILES[relpath][0],
                                     source=option)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="str", required=True, choices=list(catalog.GROUPS)),
            directory=dict(type="path", fallback=(env_fallback, [catalog.DIRECTORY_ENV])),
            mirror_url=dict(type="str", fallback=(env_fallback, [catalog.MIRROR_ENV])),
            cache_dir=dict(type="path", default=catalog.DEFAULT_CACHE_DIR, fallback=(env_fallback, [catalog.CACHE_ENV])),
            validate_certs=dict(type="bool", default=True),
            timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    problems = []
    check_int("timeout", module.params["timeout"], problems, low=1, high=3600)
    cache_dir = check_path("cache_dir", os.path.abspath(module.params["cache_dir"]), problems, directory=True)
    if cache_dir and os.path.exists(cache_dir) and not os.path.isdir(cache_dir):
        problems.append(problem("cache_dir", "%s exists and is not a directory" % cache_dir))
    if module.params["directory"]:
        module.params["directory"] = check_path("directory", os.path.abspath(module.params["directory"]), problems,
                                                directory=True)
    if module.params["mirror_url"]:
        check_text("mirror_url", module.params["mirror_url"], problems)
    fail_if(module, "upstream_files", problems)

    outcome = dict(files={}, fetched=[], missing=[], refused=[], problems=[], unreachable={})
    for relpath in catalog.files_for(module.params["files"]):
        provide(module, relpath, cache_dir, outcome)
    if outcome["problems"]:
        module.fail_json(msg=report.failure(outcome["missing"], outcome["refused"], cache_dir),
                         problems=outcome["problems"])
    groups = dict((g, catalog.group_files(g)) for g in catalog.GROUPS if g in module.params["files"])
    module.exit_json(changed=False, cache_dir=cache_dir, files=outcome["files"], groups=groups,
                     fetched=outcome["fetched"])


if __name__ == "__main__":
    main()
