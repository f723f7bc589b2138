# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where an upstream file comes from, and the one failure message when some cannot be had (pure, no I/O)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog


def source(relpath, directory=None, mirror_url=None):
    """(option, location) the file is read from when the cache lacks it: the directory, the mirror or the release."""
    if directory:
        return "directory", directory.rstrip("/") + "/" + relpath
    if mirror_url:
        return "mirror_url", catalog.url(relpath, mirror_url)
    return "files", catalog.url(relpath)


def missing_problem(option, relpath, location, reason):
    return "%s: %s is not available from %s: %s" % (option, relpath, location, reason)


def refused_problem(option, relpath, location, actual):
    return ("%s: %s from %s has sha256 %s, the pinned release file has %s: refused, not cached"
            % (option, relpath, location, actual, catalog.sha256(relpath)))


def failure(missing, refused, cache_dir):
    """The single failure message: every file named, and the overrides that provide them.

    ``missing`` and ``refused`` are lists of relative paths; the problems themselves go beside the message.
    """
    parts = []
    if missing:
        parts.append("%d upstream release file%s not available: %s"
                     % (len(missing), "" if len(missing) == 1 else "s", ", ".join(missing)))
    if refused:
        parts.append("%d refused (sha256 mismatch): %s" % (len(refused), ", ".join(refused)))
    return ("upstream_files: %s; none of them was cached. Provide the pinned files with %s (environment %s): a "
            "directory holding them at these relative paths, or %s (environment %s): a base URL serving them at "
            "these paths; or copy them into the cache %s. Every copy is checked against the pinned sha256 "
            "(docs/air-gapped.md)."
            % ("; ".join(parts), catalog.DIRECTORY_VARIABLE, catalog.DIRECTORY_ENV, catalog.MIRROR_VARIABLE,
               catalog.MIRROR_ENV, cache_dir))
