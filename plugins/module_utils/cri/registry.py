# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan containerd ``certs.d/<host>/hosts.toml`` files from kubespray's schema.

Pure logic, stdlib only (runs on nodes, python 3.8+). Input is kubespray's
``containerd_registries_mirrors`` list (prefix, server, mirrors[] with host,
capabilities, skip_verify, override_path, ca, client, header) and its
``containerd_registry_auth`` list (registry, username/password or auth).

Credentials given here become a static ``Authorization: Basic ...`` header in
hosts.toml. containerd sends it unchanged and does no token exchange for it, so it
works only with registries that accept Basic directly; the containerd role writes
kubespray's ``containerd_registry_auth`` to config.toml's CRI registry configs
instead (``registry_auth.py``). Files holding such a header are flagged so that
the caller writes them 0600.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import ipaddress
import re

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import booleans

from ansible_collections.kubelayer.runtime.plugins.module_utils.cri.toml_emit import emit

try:  # python 3
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - python 2 is not supported on nodes
    from urlparse import urlsplit  # type: ignore

HEADER_COMMENT = "Managed by kubelayer.runtime.containerd_registry; local changes are overwritten."
DEFAULT_DIR = "_default"
# The registry a namespace really talks to when it is not its own host name.
REGISTRY_ENDPOINTS = {
    "docker.io": "https://registry-1.docker.io",
}
CAPABILITIES = ("pull", "resolve", "push", "referrers")
DEFAULT_MIRROR_CAPABILITIES = ["pull", "resolve"]
CREDENTIAL_HEADERS = ("authorization", "proxy-authorization")
REDACTED = "********"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(r"^%s(?:\.%s)*\Z" % (_LABEL, _LABEL))
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_DURATION = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|\u00b5s|ms|s|m|h))+\Z")
_BAD_TEXT = re.compile(r"[\x00-\x20\x7f\"\\]")

REGISTRY_KEYS = ("prefix", "server", "mirrors")
MIRROR_KEYS = ("host", "capabilities", "skip_verify", "override_path", "ca", "client", "header", "dial_timeout")
AUTH_KEYS = ("registry", "username", "password", "auth")


class RegistryError(ValueError):
    """Raised with every problem found (``errors`` holds them one per item)."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(RegistryError, self).__init__("; ".join(self.errors))


def _name_problems(value, where):
    """Problems shared by registry names: the characters the issue calls out."""
    problems = []
    if "\n" in value or "\r" in value:
        problems.append("%s must not contain a newline" % where)
    if '"' in value:
        problems.append('%s must not contain a double quote (")' % where)
    if "]" in value or "[" in value:
        problems.append("%s must not contain '[' or ']'" % where)
    if "/.." in value or value.startswith(".."):
        problems.append("%s must not contain '/..' (path traversal)" % where)
    return problems


def _valid_port(text):
    return text.isdigit() and 0 < int(text) < 65536


def _valid_host(host):
    if not host or len(host) > 253:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    return bool(_HOSTNAME.match(host))


def host_dir_name(prefix):
    """The certs.d directory name containerd looks up for a registry prefix."""
    if prefix in ("*", DEFAULT_DIR):
        return DEFAULT_DIR
    return prefix


def check_prefix(prefix, where):
    """Return the problems with a registry prefix (a namespace: host[:port] or _default)."""
    if not isinstance(prefix, str) or not prefix:
        return ["%s is required and must be a non-empty string" % where]
    problems = _name_problems(prefix, where)
    if problems:
        return problems
    if prefix in ("*", DEFAULT_DIR):
        return []
    if "/" in prefix:
        return ["%s must be a registry host (host or host:port) without '/', got %r" % (where, prefix)]
    host, sep, port = prefix.rpartition(":")
    if not sep:
        host, port = prefix, None
    if port is not None and not _valid_port(port):
        return ["%s has an invalid port in %r" % (where, prefix)]
    if not _valid_host(host):
        return ["%s must be a registry host name (host or host:port, or '_default'), got %r" % (where, prefix)]
    return []


def normalize_url(value, where, problems):
    """Check a host URL (``scheme://host[:port][/path]``, no scheme means https)."""
    if not isinstance(value, str) or not value:
        problems.append("%s is required and must be a non-empty string" % where)
        return None
    found = [p for p in _name_problems(value, where) if "'['" not in p]
    if found:
        problems.extend(found)
        return None
    if ("[" in value or "]" in value) and not re.match(r"^(?:https?://)?\[[0-9A-Fa-f:.]+\](?::[0-9]+)?(?:/[^\[\]]*)?\Z", value):
        problems.append("%s may contain '[' or ']' only around an IPv6 address, got %r" % (where, value))
        return None
    if _BAD_TEXT.search(value):
        problems.append("%s must not contain spaces, control characters, quotes or backslashes: %r" % (where, value))
        return None
    url = value if "://" in value else "https://" + value
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        problems.append("%s is not a valid URL (%s): %r" % (where, exc, value))
        return None
    if parts.scheme not in ("http", "https"):
        problems.append("%s must use http:// or https://, got %r" % (where, value))
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        problems.append("%s must not carry a query, fragment or user info: %r" % (where, value))
        return None
    if not parts.hostname or not _valid_host(parts.hostname):
        problems.append("%s has an invalid host name: %r" % (where, value))
        return None
    if port is not None and not 0 < port < 65536:
        problems.append("%s has an invalid port: %r" % (where, value))
        return None
    segments = [s for s in parts.path.split("/") if s]
    if any(s in (".", "..") for s in segments):
        problems.append("%s must not contain '.' or '..' path segments: %r" % (where, value))
        return None
    return url.rstrip("/") if parts.path not in ("", "/") else "%s://%s" % (parts.scheme, parts.netloc)


def _as_list(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _check_abs_paths(value, where, problems, allow_pairs=False):
    items = _as_list(value)
    if not items:
        problems.append("%s must be an absolute path or a non-empty list of them" % where)
        return None
    out = []
    for idx, item in enumerate(items):
        item_where = "%s[%d]" % (where, idx)
        if allow_pairs and isinstance(item, (list, tuple)):
            if len(item) != 2:
                problems.append("%s must be a [certificate, key] pair" % item_where)
                continue
            pair = []
            for jdx, path in enumerate(item):
                checked = _check_path(path, "%s[%d]" % (item_where, jdx), problems)
                if checked is not None:
                    pair.append(checked)
            if len(pair) == 2:
                out.append(pair)
            continue
        checked = _check_path(item, item_where, problems)
        if checked is not None:
            out.append(checked)
    return out


def _check_path(path, where, problems):
    if not isinstance(path, str) or not path:
        problems.append("%s must be a non-empty string path" % where)
        return None
    if not path.startswith("/"):
        problems.append("%s must be an absolute path, got %r" % (where, path))
        return None
    if "\n" in path or "\x00" in path or "/../" in path + "/":
        problems.append("%s must not contain a newline, NUL or '..': %r" % (where, path))
        return None
    return path


def _check_headers(value, where, problems):
    if not isinstance(value, dict):
        problems.append("%s must be a dict of header name to a string or list of strings" % where)
        return None
    out = {}
    for name, raw in value.items():
        name_where = "%s[%r]" % (where, name)
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            problems.append("%s is not a valid HTTP header name" % name_where)
            continue
        values = _as_list(raw)
        if not values:
            problems.append("%s must be a string or a non-empty list of strings" % name_where)
            continue
        good = True
        for item in values:
            if not isinstance(item, str) or any(c in item for c in "\r\n\x00"):
                problems.append("%s values must be strings without CR, LF or NUL" % name_where)
                good = False
                break
        if good:
            out[name] = values[0] if len(values) == 1 else values
    return out


def _check_bool(value, where, problems):
    parsed = booleans.parse_bool(value)
    if parsed is None:
        problems.append("%s must be a boolean, got %r" % (where, value))
    return parsed


def _unknown_keys(item, allowed, where, problems):
    for key in item:
        if key not in allowed:
            problems.append("%s has an unknown key %r (allowed: %s)" % (where, key, ", ".join(allowed)))


def _plan_mirror(mirror, where, problems):
    if not isinstance(mirror, dict):
        problems.append("%s must be a dict" % where)
        return None, None
    _unknown_keys(mirror, MIRROR_KEYS, where, problems)
    url = normalize_url(mirror.get("host"), "%s.host" % where, problems)
    table = {}
    caps = _as_list(mirror.get("capabilities"))
    if caps is None:
        caps = list(DEFAULT_MIRROR_CAPABILITIES)
    if not caps:
        problems.append("%s.capabilities must not be empty" % where)
    for cap in caps:
        if cap not in CAPABILITIES:
            problems.append("%s.capabilities has %r; allowed: %s" % (where, cap, ", ".join(CAPABILITIES)))
    table["capabilities"] = caps
    skip = mirror.get("skip_verify")
    table["skip_verify"] = False if skip is None else _check_bool(skip, "%s.skip_verify" % where, problems)
    if mirror.get("override_path") is not None:
        if _check_bool(mirror["override_path"], "%s.override_path" % where, problems):
            table["override_path"] = True
    if mirror.get("dial_timeout") is not None:
        timeout = mirror["dial_timeout"]
        if not isinstance(timeout, str) or not _DURATION.match(timeout):
            problems.append("%s.dial_timeout must be a Go duration such as '1s' or '500ms', got %r" % (where, timeout))
        else:
            table["dial_timeout"] = timeout
    if mirror.get("ca") is not None:
        ca = _check_abs_paths(mirror["ca"], "%s.ca" % where, problems)
        if ca:
            table["ca"] = ca[0] if len(ca) == 1 else ca
    if mirror.get("client") is not None:
        client = _check_abs_paths(mirror["client"], "%s.client" % where, problems, allow_pairs=True)
        if client:
            table["client"] = client[0] if len(client) == 1 and isinstance(client[0], str) else client
    if mirror.get("header") is not None:
        headers = _check_headers(mirror["header"], "%s.header" % where, problems)
        if headers:
            table["header"] = headers
    return url, table


def _netloc(url):
    return urlsplit(url).netloc.lower()


def basic_auth_problem(value, where):
    """The problem with a kubespray ``auth`` value (base64 of ``user:password``), or None. Never shows the value."""
    if not isinstance(value, str):
        return "%s.auth must be a string (base64 of user:password)" % where
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return "%s.auth is not valid base64 (expected base64 of 'user:password')" % where
    if ":" not in decoded:
        return "%s.auth does not decode to 'user:password'" % where
    return None


def _auth_header(entry, where, problems):
    """``Basic <base64(user:pass)>`` from a kubespray containerd_registry_auth item."""
    user, password, auth = entry.get("username"), entry.get("password"), entry.get("auth")
    if auth:
        if user or password:
            problems.append("%s: set either auth or username/password, not both" % where)
            return None
        problem = basic_auth_problem(auth, where)
        if problem:
            problems.append(problem)
            return None
        return "Basic " + auth.strip()
    if not isinstance(user, str) or not user or not isinstance(password, str) or not password:
        problems.append("%s needs username and password (or auth)" % where)
        return None
    if ":" in user:
        problems.append("%s.username must not contain ':'" % where)
        return None
    token = base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")
    return "Basic " + token


def registry_host(registry, where, problems):
    """The registry host of a kubespray ``containerd_registry_auth`` item (``host`` or ``host:port``; a leading
    scheme is dropped, as containerd does for its ``auths``), lower-case; None with a problem otherwise."""
    if not isinstance(registry, str) or not registry:
        problems.append("%s.registry is required" % where)
        return None
    bare = registry.split("://", 1)[-1].rstrip("/")
    found = check_prefix(bare, "%s.registry" % where)
    if found or bare in ("*", DEFAULT_DIR):
        problems.extend(found or ["%s.registry must name one registry host, not %r" % (where, registry)])
        return None
    return bare.lower()


def default_server(prefix):
    if prefix in ("*", DEFAULT_DIR):
        return None
    return REGISTRY_ENDPOINTS.get(prefix, "https://" + prefix)


def _credentials(auth, auth_option, problems):
    """kubespray's containerd_registry_auth as registry host -> ``Authorization`` header value."""
    creds = {}
    for idx, entry in enumerate(auth):
        where = "%s[%d]" % (auth_option, idx)
        if not isinstance(entry, dict):
            problems.append("%s must be a dict" % where)
            continue
        _unknown_keys(entry, AUTH_KEYS, where, problems)
        target = registry_host(entry.get("registry"), where, problems)
        header = _auth_header(entry, where, problems)
        if target and header:
            if target in creds:
                problems.append("%s: registry %r is listed twice" % (where, target))
            creds[target] = header
    return creds


def _plan_hosts(mirrors, where, creds, used, auth_option, problems):
    """The ``[host."<url>"]`` tables of one registry, credentials added to the mirrors they belong to."""
    if mirrors is None:
        mirrors = []
    if not isinstance(mirrors, list):
        problems.append("%s.mirrors must be a list" % where)
        mirrors = []
    hosts = {}
    for jdx, mirror in enumerate(mirrors):
        mwhere = "%s.mirrors[%d]" % (where, jdx)
        url, table = _plan_mirror(mirror, mwhere, problems)
        if url is None:
            continue
        if url in hosts:
            problems.append("%s.host %r is listed twice" % (mwhere, url))
            continue
        target = _netloc(url)
        if target in creds:
            headers = table.setdefault("header", {})
            if any(name.lower() == "authorization" for name in headers):
                problems.append("%s.header sets Authorization and %s has credentials for %r" % (mwhere, auth_option, target))
            else:
                headers["Authorization"] = creds[target]
                used.add(target)
        hosts[url] = table
    return hosts


def _plan_server(reg, prefix, dir_name, where, creds, used, problems):
    """The top-level ``server`` (and its credentials) of one registry's document."""
    document = {}
    server = None
    if reg.get("server") is not None:
        server = normalize_url(reg["server"], "%s.server" % where, problems)
    elif dir_name is not None:
        server = default_server(prefix)
    if not server:
        return document
    document["server"] = server
    alias = prefix.lower() if (dir_name and dir_name != DEFAULT_DIR) else None
    for target in (_netloc(server), alias):
        if target and target in creds:
            document["header"] = {"Authorization": creds[target]}
            used.add(target)
            break
    return document


def _plan_registry(reg, where, creds, used, seen_dirs, auth_option, problems):
    """One ``containerd_registries_mirrors`` item as a plan ``{prefix, dir, document}``, or None."""
    if not isinstance(reg, dict):
        problems.append("%s must be a dict" % where)
        return None
    _unknown_keys(reg, REGISTRY_KEYS, where, problems)
    prefix = reg.get("prefix")
    found = check_prefix(prefix, "%s.prefix" % where)
    problems.extend(found)
    dir_name = host_dir_name(prefix) if not found else None
    if dir_name is not None:
        if dir_name in seen_dirs:
            problems.append("%s.prefix %r uses the same directory as %s" % (where, prefix, seen_dirs[dir_name]))
        seen_dirs[dir_name] = where
    document = _plan_server(reg, prefix, dir_name, where, creds, used, problems)
    hosts = _plan_hosts(reg.get("mirrors"), where, creds, used, auth_option, problems)
    if hosts:
        document["host"] = hosts
    if dir_name is None:
        return None
    return {"prefix": prefix, "dir": dir_name, "document": document}


def _auth_only_plans(creds, used, seen_dirs, auth_option):
    """Credentials for a registry that has no mirrors entry: a hosts.toml of its own."""
    plans = []
    for target, header in creds.items():
        if target in used or target in seen_dirs:
            continue
        plans.append({
            "prefix": target,
            "dir": target,
            "document": {"server": default_server(target), "header": {"Authorization": header}},
        })
        seen_dirs[target] = auth_option
    return plans


def plan(registries, auth=None, option="registries", auth_option="auth"):
    """Turn the kubespray lists into hosts.toml plans.

    Returns a list of dicts ``{prefix, dir, document, credentials}`` in input
    order; ``document`` is the hosts.toml table (dict). Raises RegistryError
    listing every problem found.
    """
    registries = registries or []
    auth = auth or []
    if not isinstance(registries, list):
        raise RegistryError(["%s must be a list" % option])
    if not isinstance(auth, list):
        raise RegistryError(["%s must be a list" % auth_option])
    problems = []
    creds = _credentials(auth, auth_option, problems)
    plans, seen_dirs, used = [], {}, set()
    for idx, reg in enumerate(registries):
        item = _plan_registry(reg, "%s[%d]" % (option, idx), creds, used, seen_dirs, auth_option, problems)
        if item is not None:
            plans.append(item)
    plans.extend(_auth_only_plans(creds, used, seen_dirs, auth_option))
    if problems:
        raise RegistryError(problems)
    for item in plans:
        item["credentials"] = has_credentials(item["document"])
    return plans


def _header_tables(document):
    if isinstance(document.get("header"), dict):
        yield document["header"]
    for table in (document.get("host") or {}).values():
        if isinstance(table.get("header"), dict):
            yield table["header"]


def has_credentials(document):
    """True when the document carries any header: header values are secrets here (no_log, file 0600), a registry
    token travels as ``X-Registry-Token`` as well as ``Authorization``."""
    return any(headers for headers in _header_tables(document))


def redact(document):
    """A copy with credential header values replaced (for diff output)."""
    out = dict(document)
    if isinstance(out.get("header"), dict):
        out["header"] = _redact_headers(out["header"])
    if isinstance(out.get("host"), dict):
        hosts = {}
        for url, table in out["host"].items():
            table = dict(table)
            if isinstance(table.get("header"), dict):
                table["header"] = _redact_headers(table["header"])
            hosts[url] = table
        out["host"] = hosts
    return out


def _redact_headers(headers):
    return dict((k, REDACTED if k.lower() in CREDENTIAL_HEADERS else v) for k, v in headers.items())


def render(document):
    """hosts.toml text for a planned document."""
    return emit(document, header_comment=HEADER_COMMENT)


def redact_text(text):
    """Redact credential header lines in existing hosts.toml text (for diff 'before')."""
    out = []
    for line in text.splitlines(True):
        name = line.split("=", 1)[0].strip().strip('"').lower()
        if "=" in line and name in CREDENTIAL_HEADERS:
            out.append(line.split("=", 1)[0] + '= "%s"\n' % REDACTED)
        else:
            out.append(line)
    return "".join(out)


# Written next to every hosts.toml this collection writes: exclusive mode only ever touches directories holding it.
MARKER = ".kubelayer-managed"
MARKER_TEXT = "written by kubelayer.runtime.containerd_registry; exclusive mode may remove this directory\n"


def stale_dirs(existing, wanted, marked=None):
    """Directory names in ``existing`` that exclusive mode removes: not wanted, and (when ``marked`` is given)
    holding the collection's marker, so a directory made by hand (a CA file for ``myreg:5000``) is never touched."""
    wanted = set(wanted)
    return sorted(name for name in existing if name not in wanted and (marked is None or name in marked))


def removable_files(names):
    """Of the files in a stale managed directory, the ones the collection wrote (anything else is kept, and the
    directory with it)."""
    return sorted(name for name in names if name in ("hosts.toml", MARKER))
