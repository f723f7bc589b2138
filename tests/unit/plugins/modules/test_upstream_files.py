# -*- coding: utf-8 -*-
"""upstream_files through its real download path: the pinned files served over HTTP on 127.0.0.1.

A thread serves the upstream release files (../shared/upstream, or what the collection itself fetched) with Python's
http.server on a random loopback port; the module downloads them with ansible's fetch_url, checks every sha256,
fills a fresh cache, and reads only the cache on the second run. A tampered copy (served from a temporary directory)
is refused with the file named, and never cached.
"""
import contextlib
import functools
import http.server
import json
import shutil
import threading

import pytest
from kubelayer_compat import patch_module_args

from kubelayer_paths import upstream_dir

from ansible_collections.kubelayer.runtime.plugins.module_utils.upstream import catalog
from ansible_collections.kubelayer.runtime.plugins.modules import upstream_files

ALL = list(catalog.GROUPS)
CANAL = catalog.CANAL_MANIFEST


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()


@contextlib.contextmanager
def serve(directory):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(directory)))
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            upstream_files.main()
    return json.loads(capsys.readouterr().out)


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    for env in (catalog.DIRECTORY_ENV, catalog.MIRROR_ENV, catalog.CACHE_ENV):
        monkeypatch.delenv(env, raising=False)


def test_download_verify_cache_and_reuse(tmp_path, capsys):
    cache = tmp_path / "cache"
    with serve(upstream_dir()) as (server, url):
        first = run(capsys, files=ALL, mirror_url=url + "/", cache_dir=str(cache))
        assert not first.get("failed"), first
        assert sorted(first["fetched"]) == sorted(catalog.FILES)
        assert sorted(server.requests) == sorted("/" + rel for rel in catalog.FILES)
        for rel, info in first["files"].items():
            assert info["source"] == "mirror_url" and info["path"] == str(cache / rel)
            with open(info["path"], "rb") as handle:
                assert catalog.mismatch(rel, handle.read()) is None
        second = run(capsys, files=ALL, mirror_url=url, cache_dir=str(cache))
        assert second["fetched"] == [] and second["changed"] is False
        assert set(info["source"] for info in second["files"].values()) == {"cache"}
        assert len(server.requests) == len(catalog.FILES), "the second run asked the server again"
    assert second["groups"]["canal"] == [CANAL] and second["cache_dir"] == str(cache)


def _tampered(tmp_path):
    copy = tmp_path / "tampered"
    shutil.copytree(upstream_dir(), str(copy))
    with open(str(copy / CANAL), "ab") as handle:
        handle.write(b"\n# one more line\n")
    return copy


def test_a_tampered_file_is_refused_named_and_not_cached(tmp_path, capsys):
    cache = tmp_path / "cache"
    with serve(_tampered(tmp_path)) as (server, url):
        result = run(capsys, files=["canal", "local_path"], mirror_url=url, cache_dir=str(cache))
        assert "/" + CANAL in server.requests
    assert result["failed"] is True
    assert CANAL in result["msg"] and "sha256 mismatch" in result["msg"] and "kubelayer_upstream_dir" in result["msg"]
    refused = [p for p in result["problems"] if p.startswith("mirror_url: %s from %s/%s" % (CANAL, url, CANAL))]
    assert len(refused) == 1 and catalog.sha256(CANAL) in refused[0], result["problems"]
    assert len(result["problems"]) == 1
    assert not (cache / CANAL).exists()
    # the good file of the same run is cached all the same
    assert (cache / "local-path-provisioner-v0.0.37" / "local-path-storage.yaml").is_file()


def test_a_tampered_directory_is_refused_too(tmp_path, capsys):
    result = run(capsys, files=["canal"], directory=str(_tampered(tmp_path)), cache_dir=str(tmp_path / "cache"))
    assert result["failed"] is True and result["problems"][0].startswith("directory: %s from " % CANAL)


def test_a_corrupted_cache_entry_is_fetched_again(tmp_path, capsys):
    cache = tmp_path / "cache"
    (cache / "calico-v3.32.1").mkdir(parents=True)
    (cache / CANAL).write_bytes(b"truncated")
    result = run(capsys, files=["canal"], directory=upstream_dir(), cache_dir=str(cache))
    assert result["fetched"] == [CANAL] and result["files"][CANAL]["source"] == "directory"
    assert "did not match its pinned sha256" in json.dumps(result.get("warnings"))
    with open(str(cache / CANAL), "rb") as handle:
        assert catalog.mismatch(CANAL, handle.read()) is None


def test_nothing_reachable_names_every_file_and_asks_the_host_once(tmp_path, capsys):
    with serve(tmp_path) as (_server, url):
        pass  # the port is closed again: connection refused
    result = run(capsys, files=["snapshot_crds", "snapshot_controller"], mirror_url=url,
                 cache_dir=str(tmp_path / "cache"))
    assert result["failed"] is True
    wanted = catalog.files_for(["snapshot_crds", "snapshot_controller"])
    assert all(rel in result["msg"] for rel in wanted) and "KUBELAYER_UPSTREAM_MIRROR_URL" in result["msg"]
    assert len(result["problems"]) == len(wanted)
    assert sum("not tried" in p for p in result["problems"]) == len(wanted) - 1


def test_environment_overrides_like_the_variables(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(catalog.DIRECTORY_ENV, upstream_dir())
    monkeypatch.setenv(catalog.CACHE_ENV, str(tmp_path / "envcache"))
    with patch_module_args({"files": ["canal"]}):
        with pytest.raises(SystemExit):
            upstream_files.main()
    result = json.loads(capsys.readouterr().out)
    assert result["files"][CANAL]["source"] == "directory"
    assert result["cache_dir"] == str(tmp_path / "envcache")


@pytest.mark.parametrize("args, option", [
    ({"cache_dir": "/tmp/x\x00y"}, "cache_dir"),
    ({"directory": "/srv/up\x00"}, "directory"),
    ({"timeout": 10000000000}, "timeout"),
    ({"timeout": 0}, "timeout"),
    ({"mirror_url": "http://m\n/"}, "mirror_url"),
])
def test_hostile_options_fail_once_before_any_io(tmp_path, capsys, args, option):
    args = dict({"files": ["canal"], "cache_dir": str(tmp_path / "cache")}, **args)
    result = run(capsys, **args)
    assert result["failed"] is True and result["problems"][0].startswith(option + ": "), result
    assert not (tmp_path / "cache").exists()


def test_a_symlink_planted_in_the_cache_is_refused(tmp_path, capsys):
    cache = tmp_path / "cache"
    (cache / "calico-v3.32.1").mkdir(parents=True)
    (tmp_path / "elsewhere").write_bytes(b"x")
    (cache / CANAL).symlink_to(tmp_path / "elsewhere")
    result = run(capsys, files=["canal"], directory=upstream_dir(), cache_dir=str(cache))
    assert result["failed"] is True and result["problems"][0].startswith("cache_dir: "), result
    assert (tmp_path / "elsewhere").read_bytes() == b"x"
