# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run network-config-analyzer (NP-Guard, ``nca``) and read its answers.

``nca`` runs as a separate process on the controller (its own global state stays out of the
module). The connectivity map is read from its ``txt_no_fw_rules`` output, one line per allowed
(source, destination, connection cube); the sanity query from its ``txt`` output; an explanation
from ``--explain``. Anything this parser does not understand raises ``AnalyzerError``: a proof
never guesses.

``find_nca(hint)`` locates the executable; ``run_nca(argv, runner)`` runs it (``runner`` defaults to
``subprocess``; tests and the benchmark pass the real one). No Ansible imports.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re
import shutil
import subprocess
import sys
import time

from ansible_collections.kubelayer.runtime.plugins.module_utils.cni.policy import conns

INSTALL_HINT = ("network-config-analyzer is not installed on the controller: pip install "
                "network-config-analyzer==2.1.0 (it is pinned in the collection's requirements.txt), or "
                "point analyzer at its nca executable, or set prove: false to render without a proof")
_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conn>.+)\Z")
_POD = re.compile(r"^(?P<ns>[^/\s]+)/(?P<name>[^\[\s]+)\[[A-Za-z]+\]\Z")
_CUBE = re.compile(r"\{([^{}]*)\}")
_RUNTIME = re.compile(r"Total run time:\s+([0-9.]+) seconds")


class AnalyzerError(RuntimeError):
    """The analyzer is missing, failed, or said something this parser does not understand."""


def find_nca(hint=None):
    """Path of the ``nca`` executable: ``hint``, next to this Python, or on PATH (None if absent)."""
    if hint:
        return hint if os.access(hint, os.X_OK) else None
    beside = os.path.join(os.path.dirname(sys.executable), "nca")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("nca")


def run_nca(argv, timeout=1800):
    """Run nca; return (stdout, stderr, rc, wall seconds)."""
    start = time.time()
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AnalyzerError("could not run %s: %s" % (argv[0], exc))
    return (proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"),
            proc.returncode, time.time() - start)


def analyzer_seconds(text):
    """The analyzer's own 'Total run time' (seconds) from its output, or None."""
    found = _RUNTIME.findall(text)
    return float(found[-1]) if found else None


def _protocols(text):
    text = text.strip()
    negate = text.startswith("all but ")
    names = [n.strip() for n in (text[len("all but "):] if negate else text).split(",") if n.strip()]
    found = set(n if n in conns.PORT_PROTOCOLS else conns.OTHER for n in names)
    if text == "*":
        found, negate = set(), True
    return set(conns.PROTOCOLS) - found if negate else found


def parse_cube(cube):
    """``protocols:TCP, UDP,dst_ports:53,80-90`` -> connection set."""
    match = re.match(r"^(?:protocols:(?P<p>[^:]*?))?(?:,?dst_ports:(?P<d>[0-9,\-]+))?\Z", cube)
    if not cube or not match:
        raise AnalyzerError("analyzer connection cube not understood: {%s}" % cube)
    protos = _protocols(match.group("p")) if match.group("p") is not None else set(conns.PORT_PROTOCOLS)
    if match.group("d") is None:
        return conns.union(*[conns.make(p) for p in protos]) if protos else {}
    ranges = []
    for part in match.group("d").split(","):
        lo, _sep, hi = part.partition("-")
        ranges.append((int(lo), int(hi or lo)))
    return conns.union(*[{p: tuple(ranges)} for p in protos if p != conns.OTHER])


def parse_conn(text):
    text = text.strip()
    if text == "All connections":
        return dict(conns.ALL)
    if text == "No connections":
        return {}
    if text.startswith("All but "):
        return conns.subtract(conns.ALL, parse_conn(text[len("All but "):]))
    cubes = _CUBE.findall(text)
    if not cubes or _CUBE.sub("", text).strip(", ") != "":
        raise AnalyzerError("analyzer connection not understood: %s" % text)
    return conns.union(*[parse_cube(c) for c in cubes])


def parse_peer(text):
    """``ns/name[Pod]`` -> ("pod", "ns/name"); ``a-b``, ``a/n`` or ``a`` -> ("ip", (first, last))."""
    match = _POD.match(text)
    if match:
        return "pod", "%s/%s" % (match.group("ns"), match.group("name"))
    try:
        if "-" in text:
            lo, hi = text.split("-", 1)
            return "ip", (ipaddress.ip_address(lo), ipaddress.ip_address(hi))
        net = ipaddress.ip_network(text, strict=False)
        return "ip", (net.network_address, net.broadcast_address)
    except ValueError:
        raise AnalyzerError("analyzer endpoint not understood: %s" % text)


def parse_connectivity(text):
    """Every ``src => dst : conn`` line -> [(src peer, dst peer, conns)]."""
    out = []
    for line in text.splitlines():
        match = _LINE.match(line.strip())
        if match:
            out.append((parse_peer(match.group("src")), parse_peer(match.group("dst")), parse_conn(match.group("conn"))))
    return out


def _ids(peer, addresses):
    kind, value = peer
    if kind == "pod":
        return [value]
    lo, hi = value
    return [a["id"] for a in addresses if ipaddress.ip_address(a["address"]).version == lo.version
            and lo <= ipaddress.ip_address(a["address"]) <= hi]


def connectivity_by_endpoint(lines, eps):
    """Analyzer lines -> ``{(src_id, dst_id): conns}`` over the synthetic endpoints."""
    out = {}
    for src, dst, allowed in lines:
        for s in _ids(src, eps["addresses"]):
            for d in _ids(dst, eps["addresses"]):
                if s != d:
                    out[(s, d)] = conns.union(out.get((s, d), {}), allowed)
    return out


def parse_sanity(text):
    """The findings of nca's sanity query (one string each); [] when the check passed."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "failed sanity check:" in line:
            findings = []
            for item in lines[i + 1:]:
                if not item.strip() or item.startswith("Total run time"):
                    break
                findings.append(item.strip())
            return findings
    return []


def parse_explain(text):
    """{"src": [policies], "dst": [policies]} from an ``--explain`` answer."""
    out = {"src": [], "dst": []}
    side = None
    collecting = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("(src)") and line.endswith(":"):
            side = "src"
        elif line.startswith("(dst)") and line.endswith(":"):
            side = "dst"
        elif line == "Policy Configurations:":
            collecting = side is not None
        elif line == "Resource Configurations:":
            collecting = False
        elif collecting and line:
            out[side].append(line.split(": line ")[0])
    return out
