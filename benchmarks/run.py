# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""kubelayer.runtime benchmarks: one command, one markdown table.

    .venv/bin/python benchmarks/run.py                 # everything (make bench)
    .venv/bin/python benchmarks/run.py --only canal,merge
    .venv/bin/python benchmarks/run.py --json bench.json

Sections:
  canal  canal_plan scaling (runs benchmarks/bench_canal_plan.py --json --sizes ...)
  merge  containerd_config merge on the real default configs vs a plain tomlkit parse+dump
  site   playbooks/site.yml on three fresh lab nodes (bench-*): converge and idempotent re-run, wall time,
         tasks and module executions per host and role, counted from the ansible.posix.json callback

The site section creates its own nodes (bench-bookworm, bench-trixie, bench-forky, from lab/lab.sh's
platforms) with molecule/shared/create.yml and always removes them with molecule/shared/destroy.yml.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
# the checkout is the installed collection through .venv/collections (make venv links it)
if (ROOT / ".venv" / "collections" / "ansible_collections").is_dir():
    sys.path.insert(0, str(ROOT / ".venv" / "collections"))

import site_counts  # noqa: E402  (benchmarks/site_counts.py)

# Targets of issue 8 (benchmark targets, not timed tests).
TARGET_RERUN_MODULES_PER_ROLE = 3
TARGET_RERUN_WALL_S = 30.0
TARGET_CANAL_5000_S = 0.5

BENCH_PLATFORMS = [
    {"name": "bench-bookworm", "image": "localhost/kubelayer-node:bookworm", "lab": "lab-bookworm"},
    {"name": "bench-trixie", "image": "localhost/kubelayer-node:trixie", "lab": "lab-trixie"},
    {"name": "bench-forky", "image": "localhost/kubelayer-node:forky", "lab": "lab-forky"},
]

MERGE_CASES = [
    # (fixture, containerd version it is merged for, what it shows)
    ("default-1.6.20.toml", "1.6.20", "1.6 default, v2 in place"),
    ("default-1.7.24.toml", "1.7.24", "1.7 default, v2 in place"),
    ("default-2.1.9.toml", "2.1.9", "2.1 default, v3 in place"),
    ("default-1.7.24.toml", "2.1.9", "1.7 default migrated v2 -> v3"),
    ("default-2.1.9.toml", "2.3.4", "2.1 default migrated v3 -> v4"),
]

# What the containerd role passes on every run (roles/containerd/vars/main.yml, with its defaults).
MERGE_SPEC = {
    "sandbox_image": "registry.k8s.io/pause:3.10",
    "cgroup_driver": "systemd",
    "default_runtime": "runc",
    "runtimes": {
        "runc": {"kind": "runc", "runtime_type": "io.containerd.runc.v2"},
        "kata-qemu": {"kind": "kata", "runtime_type": "io.containerd.kata-qemu.v2"},
    },
    "snapshotter": "overlayfs",
    "config_path": "/etc/containerd/certs.d",
    "cni_conf_dir": "/etc/cni/net.d",
    "settings": {
        "server.root": "/var/lib/containerd",
        "server.state": "/run/containerd",
        "server.oom_score": 0,
        "server.grpc.max_recv_message_size": 16777216,
        "server.grpc.max_send_message_size": 16777216,
        "server.debug.level": "info",
        "cri.runtime.max_container_log_line_size": 16384,
        "cri.runtime.enable_unprivileged_ports": False,
        "cri.runtime.enable_unprivileged_icmp": False,
        "cri.runtime.enable_selinux": False,
        "cri.runtime.disable_apparmor": False,
        "cri.runtime.tolerate_missing_hugetlb_controller": True,
        "cri.runtime.disable_hugetlb_controller": True,
    },
}


def log(msg):
    print("[bench] %s" % msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- machine


def machine_info():
    info = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from ansible import release  # pylint: disable=import-outside-toplevel

        info["ansible_core"] = release.__version__
    except ImportError:
        pass
    podman = shutil.which("podman")
    if podman:
        out = subprocess.run([podman, "--version"], capture_output=True, text=True, check=False).stdout.strip()
        info["podman"] = out.replace("podman version ", "")
    try:
        load = os.getloadavg()
        info["loadavg_at_start"] = [round(x, 2) for x in load]
    except OSError:
        pass
    return info


# --------------------------------------------------------------------------- canal_plan


def bench_canal(sizes):
    script = ROOT / "benchmarks" / "bench_canal_plan.py"
    if not script.exists():
        return {"error": "benchmarks/bench_canal_plan.py is missing (written by the CNI helper)"}
    cmd = [sys.executable, str(script), "--json", "--sizes", ",".join(str(s) for s in sizes)]
    log("canal_plan: %s" % " ".join(cmd[1:]))
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT), check=False)
    if proc.returncode != 0:
        return {"error": "bench_canal_plan.py exited %d: %s" % (proc.returncode, (proc.stderr or proc.stdout)[-2000:])}
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return {"error": "bench_canal_plan.py --json printed no JSON: %s" % proc.stdout[-500:]}
    return {"command": " ".join(["python"] + cmd[1:]), "rows": _canal_rows(data), "raw": data}


def _canal_rows(data):
    """Normalise bench_canal_plan.py's JSON (a list of rows, or {"results": [...]}) to rows with nodes/seconds/peak."""
    rows = data.get("results", data.get("rows", data)) if isinstance(data, dict) else data
    out = []
    for row in rows or []:
        if not isinstance(row, dict):
            continue
        nodes = _first(row, ("nodes", "size", "n"))
        seconds = _first(row, ("seconds", "time_s", "wall_s", "median_s", "time", "elapsed_s"))
        peak = _first(row, ("peak_mib", "peak_memory_mib", "peak_mb", "memory_mib"))
        if peak is None:
            peak_bytes = _first(row, ("peak_bytes", "peak_memory_bytes", "tracemalloc_peak_bytes"))
            if peak_bytes is not None:
                peak = peak_bytes / 1024.0 / 1024.0
        out.append({"nodes": nodes, "seconds": seconds, "peak_mib": peak, "cpu_seconds": row.get("cpu_seconds"),
                    "refuse_seconds": row.get("refuse_seconds"), "row": row})
    return out


def _first(row, keys):
    for key in keys:
        if row.get(key) is not None:
            return row[key]
    return None


# --------------------------------------------------------------------------- containerd merge


def bench_merge(repeat):
    from ansible_collections.kubelayer.runtime.plugins.module_utils.cri import (  # pylint: disable=import-outside-toplevel
        containerd_merge as cm,
        containerd_spec as cs,
        containerd_versions as cv,
    )
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # pylint: disable=import-outside-toplevel
    import tomlkit  # pylint: disable=import-outside-toplevel

    validation = ArgumentSpecValidator(dict(cs.ARGUMENT_SPEC)).validate(dict(MERGE_SPEC))
    if validation.error_messages:
        return {"error": "merge spec refused: %s" % validation.error_messages}
    spec = validation.validated_parameters
    fixtures = ROOT / "tests" / "unit" / "fixtures" / "containerd"
    rows = []
    for name, version_text, what in MERGE_CASES:
        text = (fixtures / name).read_text()
        version = cv.parse_version(version_text)
        first = cm.merge(text, spec, version, True)
        if first.problems:
            rows.append({"fixture": name, "version": version_text, "what": what, "error": "; ".join(first.problems)})
            continue
        # the second merge (of the merged text) is what every idempotent re-run does
        second = cm.merge(first.text, spec, version, True)
        merge_s = _median_time(lambda: cm.merge(text, spec, version, True), repeat)
        rerun_s = _median_time(lambda: cm.merge(first.text, spec, version, True), repeat)
        base_s = _median_time(lambda: tomlkit.dumps(tomlkit.parse(text)), repeat)
        rows.append({
            "fixture": name,
            "bytes": len(text.encode()),
            "lines": text.count("\n"),
            "version": version_text,
            "what": what,
            "merge_ms": merge_s * 1000,
            "rerun_merge_ms": rerun_s * 1000,
            "rerun_unchanged": second.text == first.text,
            "baseline_ms": base_s * 1000,
            "ratio": merge_s / base_s if base_s else None,
            "repeat": repeat,
        })
    return {"rows": rows, "spec": MERGE_SPEC,
            "baseline": "tomlkit.dumps(tomlkit.parse(text)) of the same file, same process, median of %d" % repeat}


def _median_time(fn, repeat):
    fn()  # warm-up
    samples = []
    for _sample in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


# --------------------------------------------------------------------------- site.yml on the lab


def _env():
    env = dict(os.environ)
    venv_bin = str(ROOT / ".venv" / "bin")
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    env.setdefault("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg"))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".venv" / "collections"))
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def _platforms_arg(platforms):
    return json.dumps({"lab_platforms": [{"name": p["name"], "image": p["image"]} for p in platforms]})


def bench_inventory(platforms, tmp):
    """The lab inventory (inventories/lab) for the bench-* nodes.

    The directory is copied to build/bench-lab (the same depth below the checkout, so the lab's
    ``inventory_dir``-relative paths still resolve), every lab-* host renamed to its bench-* node, and
    group_vars/all/zz-bench.yml sends the rendered cluster files to the run's temporary directory instead of
    the demo's build/rendered.
    """
    import yaml  # pylint: disable=import-outside-toplevel

    source = ROOT / "inventories" / "lab"
    target = ROOT / "build" / "bench-lab"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, symlinks=True)
    rename = {p["lab"]: p["name"] for p in platforms}
    hosts = target / "hosts.yml"
    inv = yaml.safe_load(hosts.read_text())

    def walk(node):
        if isinstance(node, dict):
            for key, value in list(node.items()):
                if key == "hosts" and isinstance(value, dict):
                    node[key] = {rename.get(h, h): walk(v) for h, v in value.items()}
                else:
                    node[key] = walk(value)
        return node

    hosts.write_text(yaml.safe_dump(walk(inv), sort_keys=False))
    missing = set(rename.values()) - set(re.findall(r"bench-[a-z]+", hosts.read_text()))
    if missing:
        raise RuntimeError("inventories/lab/hosts.yml does not name %s" % ", ".join(sorted(rename)))
    group_all = target / "group_vars" / "all"
    group_all.mkdir(parents=True, exist_ok=True)
    (group_all / "zz-bench.yml").write_text(yaml.safe_dump({"kubelayer_render_root": str(tmp / "rendered")}))
    return hosts


def _playbook(args, env, cwd=ROOT):
    start = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=str(cwd), check=False)
    return proc, time.monotonic() - start


def bench_site(playbook, keep_nodes=False, extra_vars=None):
    env = _env()
    platforms = BENCH_PLATFORMS
    create = ["ansible-playbook", "-i", "localhost,", "-c", "local", str(ROOT / "molecule/shared/create.yml"),
              "-e", _platforms_arg(platforms), "-e", "molecule_scenario=bench"]
    destroy = ["ansible-playbook", "-i", "localhost,", "-c", "local", str(ROOT / "molecule/shared/destroy.yml"),
               "-e", _platforms_arg(platforms)]
    result = {"playbook": str(Path(playbook).resolve().relative_to(ROOT)),
              "nodes": [p["name"] for p in platforms], "runs": {}, "extra_vars": extra_vars}
    tmp = Path(tempfile.mkdtemp(prefix="kubelayer-bench-"))
    try:
        inventory = bench_inventory(platforms, tmp)
        log("site: creating %s" % ", ".join(result["nodes"]))
        proc, secs = _playbook(destroy, env)  # leftovers of an interrupted run
        proc, secs = _playbook(create, env)
        if proc.returncode != 0:
            result["error"] = "creating the bench nodes failed: %s" % (proc.stdout + proc.stderr)[-3000:]
            return result
        result["create_s"] = secs
        run_env = dict(env)
        run_env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
        run_env["ANSIBLE_CALLBACK_RESULT_FORMAT"] = "json"
        run_env["ANSIBLE_DEPRECATION_WARNINGS"] = "0"
        for run in ("converge", "rerun"):
            log("site: %s run of %s" % (run, result["playbook"]))
            cmd = ["ansible-playbook", "-i", str(inventory), str(playbook)]
            if extra_vars:
                cmd += ["-e", extra_vars]
            proc, secs = _playbook(cmd, run_env)
            (tmp / ("%s.json" % run)).write_text(proc.stdout)
            entry = {"wall_s": secs, "rc": proc.returncode}
            try:
                data = site_counts.load_callback_json(proc.stdout)
            except ValueError as exc:
                entry["error"] = "no ansible.posix.json output (%s): %s" % (exc, (proc.stderr or proc.stdout)[-2000:])
                result["runs"][run] = entry
                break
            entry.update(site_counts.count(data))
            if proc.returncode != 0:
                entry["error"] = "ansible-playbook exited %d: %s" % (proc.returncode, "; ".join(entry["failures"])[:2000])
            result["runs"][run] = entry
            log("site: %s %.1f s rc=%d" % (run, secs, proc.returncode))
        return result
    finally:
        if keep_nodes:
            log("site: keeping %s (remove them with molecule/shared/destroy.yml)" % ", ".join(result["nodes"]))
        else:
            log("site: removing the bench nodes")
            _playbook(destroy, env)
        shutil.rmtree(ROOT / "build" / "bench-lab", ignore_errors=True)
        result["callback_output_dir"] = str(tmp)


def recount_site(path):
    """The site section of an earlier run, counted again from its saved callback outputs."""
    earlier = json.loads(Path(path).read_text())
    site = earlier.get("site") or {}
    out_dir = Path(site.get("callback_output_dir", ""))
    for name, run in site.get("runs", {}).items():
        saved = out_dir / ("%s.json" % name)
        if not saved.exists():
            run["error"] = "callback output %s is gone" % saved
            continue
        keep = {k: run[k] for k in ("wall_s", "rc") if k in run}
        run.clear()
        run.update(keep)
        run.update(site_counts.count(site_counts.load_callback_json(saved.read_text())))
        if run.get("rc"):
            run["error"] = "ansible-playbook exited %d: %s" % (run["rc"], "; ".join(run["failures"])[:2000])
    site["recounted_from"] = str(path)
    site["machine_of_run"] = earlier.get("machine")
    site["started"] = earlier.get("started")
    return site


# --------------------------------------------------------------------------- report


def _fmt(value, spec="%.3f", missing="n/a"):
    return missing if value is None else spec % value


def _ok(flag):
    return "yes" if flag else "**no**"


def markdown(results):
    lines = []
    m = results["machine"]
    lines.append("## Machine")
    lines.append("")
    lines.append("| nproc | memory | CPU | kernel | python | ansible-core | podman |")
    lines.append("|---|---|---|---|---|---|---|")
    lines.append("| %s | %s GiB | %s | %s | %s | %s | %s |" % (
        m.get("nproc"), m.get("memory_gib"), m.get("cpu_model", "?"), m.get("kernel"), m.get("python"),
        m.get("ansible_core", "?"), m.get("podman", "?")))
    lines.append("")
    lines.append("Load average at start: %s (the machine is shared; figures are wall clock)."
                 % ", ".join(str(x) for x in m.get("loadavg_at_start", [])))
    lines.append("")

    canal = results.get("canal")
    if canal is not None:
        lines.append("## canal_plan scaling")
        lines.append("")
        if canal.get("error"):
            lines.append("not measured: %s" % canal["error"])
        else:
            lines.append("`%s`; target: 5,000 nodes under %.1f s." % (canal["command"], TARGET_CANAL_5000_S))
            lines.append("")
            lines.append("| nodes | wall (s) | CPU (s) | peak memory (MiB) | refused plan, wall (s) | target |")
            lines.append("|---:|---:|---:|---:|---:|---|")
            for row in canal["rows"]:
                target = ""
                if row["nodes"] == 5000 and row["seconds"] is not None:
                    target = "%s (< %.1f s)" % (_ok(row["seconds"] < TARGET_CANAL_5000_S), TARGET_CANAL_5000_S)
                lines.append("| {:,} | {} | {} | {} | {} | {} |".format(
                    row["nodes"] or 0, _fmt(row["seconds"]), _fmt(row["cpu_seconds"]), _fmt(row["peak_mib"], "%.1f"),
                    _fmt(row["refuse_seconds"]), target))
        lines.append("")

    merge = results.get("merge")
    if merge is not None:
        lines.append("## containerd_config merge")
        lines.append("")
        if merge.get("error"):
            lines.append("not measured: %s" % merge["error"])
        else:
            lines.append("`containerd_merge.merge()` with the containerd role's spec, on the real default configs "
                         "(tests/unit/fixtures/containerd/); baseline: %s." % merge["baseline"])
            lines.append("")
            lines.append("| file | bytes | target | case | merge (ms) | re-merge of result (ms) | "
                         "tomlkit parse+dump (ms) | merge / baseline | re-merge unchanged |")
            lines.append("|---|---:|---|---|---:|---:|---:|---:|---|")
            for row in merge["rows"]:
                if row.get("error"):
                    lines.append("| %s | | %s | %s | refused: %s | | | | |" % (
                        row["fixture"], row["version"], row["what"], row["error"]))
                    continue
                lines.append("| %s | %d | %s | %s | %.2f | %.2f | %.2f | %.1fx | %s |" % (
                    row["fixture"], row["bytes"], row["version"], row["what"], row["merge_ms"],
                    row["rerun_merge_ms"], row["baseline_ms"], row["ratio"], _ok(row["rerun_unchanged"])))
        lines.append("")

    site = results.get("site")
    if site is not None:
        lines.append("## %s on 3 lab nodes" % site.get("playbook", "site.yml"))
        lines.append("")
        if site.get("extra_vars"):
            lines.append("Extra vars: `%s`" % site["extra_vars"])
            lines.append("")
        if site.get("error"):
            lines.append("not measured: %s" % site["error"])
            lines.append("")
        runs = site.get("runs", {})
        if runs:
            lines.append("| run | wall time (s) | rc | changed tasks | failed hosts | target |")
            lines.append("|---|---:|---:|---:|---|---|")
            for name in ("converge", "rerun"):
                run = runs.get(name)
                if not run:
                    continue
                target = ""
                if name == "rerun":
                    target = "%s (< %.0f s)" % (_ok(run["wall_s"] < TARGET_RERUN_WALL_S and run["rc"] == 0),
                                                TARGET_RERUN_WALL_S)
                lines.append("| %s | %.1f | %d | %s | %s | %s |" % (
                    name, run["wall_s"], run["rc"], run.get("changed_total", "n/a"),
                    ", ".join(run.get("failed_hosts", [])) or "none", target))
            lines.append("")
            lines.append("Per host and role, from the ansible.posix.json callback. *tasks* = executed (not skipped) "
                         "tasks; *modules* = node module executions (loop items counted one by one); *ctrl* = "
                         "controller-only actions (debug, set_fact, assert, fail, include_*/import_*, meta, "
                         "validate_argument_spec) and tasks delegated to localhost. Target: a re-run costs at most "
                         "%d module executions per host per role." % TARGET_RERUN_MODULES_PER_ROLE)
            lines.append("")
            lines.append("| host | role | converge tasks | converge modules | converge ctrl | re-run tasks | "
                         "re-run modules | re-run ctrl | re-run changed | target |")
            lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
            conv = runs.get("converge", {}).get("per_host_role", {})
            rer = runs.get("rerun", {}).get("per_host_role", {})
            keys = sorted(set(conv) | set(rer), key=lambda k: (k.split("|")[0], site_counts.role_order(k)))
            for key in keys:
                host, role = key.split("|", 1)
                c = conv.get(key, {})
                r = rer.get(key, {})
                target = ""
                if r and role != site_counts.PLAY_LEVEL:
                    target = _ok(r.get("modules", 0) <= TARGET_RERUN_MODULES_PER_ROLE)
                lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    host, role, c.get("tasks", ""), c.get("modules", ""), c.get("controller", ""),
                    r.get("tasks", ""), r.get("modules", ""), r.get("controller", ""), r.get("changed", ""),
                    target))
            lines.append("")
            rerun = runs.get("rerun", {})
            if rerun.get("changed_tasks"):
                lines.append("Tasks that reported *changed* on the re-run: %s" % "; ".join(rerun["changed_tasks"]))
                lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="canal,merge,site",
                        help="comma-separated sections: canal, merge, site (default: all)")
    parser.add_argument("--sizes", default="500,5000,50000", help="canal_plan node counts")
    parser.add_argument("--repeat", type=int, default=20, help="merge repetitions (median)")
    parser.add_argument("--playbook", default=str(ROOT / "playbooks" / "site.yml"))
    parser.add_argument("--keep-nodes", action="store_true", help="do not remove the bench-* nodes")
    parser.add_argument("--extra-vars", metavar="JSON",
                        help="passed to both site runs as -e (for example '{\"kubelayer_serial\": \"100%%\"}')")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")
    parser.add_argument("--site-from", metavar="FILE",
                        help="re-count the site section from an earlier --json FILE and the callback outputs it "
                             "points to (callback_output_dir), instead of running site.yml again")
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - {"canal", "merge", "site"}
    if unknown:
        parser.error("unknown section(s): %s" % ", ".join(sorted(unknown)))

    results = {"machine": machine_info(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if "canal" in only:
        results["canal"] = bench_canal([int(s) for s in args.sizes.split(",") if s.strip()])
    if "merge" in only:
        log("merge: %d cases x %d" % (len(MERGE_CASES), args.repeat))
        results["merge"] = bench_merge(args.repeat)
    if "site" in only and args.site_from:
        results["site"] = recount_site(args.site_from)
    elif "site" in only:
        results["site"] = bench_site(args.playbook, keep_nodes=args.keep_nodes, extra_vars=args.extra_vars)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    print(markdown(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, sort_keys=True, default=str) + "\n")
        log("results written to %s" % args.json)
    failed = [name for name in ("canal", "merge", "site") if isinstance(results.get(name), dict)
              and results[name].get("error")]
    site = results.get("site") or {}
    failed += ["site/%s" % n for n, r in site.get("runs", {}).items() if r.get("error")]
    if failed:
        log("sections with errors: %s" % ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
