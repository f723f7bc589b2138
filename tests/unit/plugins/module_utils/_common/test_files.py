# -*- coding: utf-8 -*-
"""_common/files.py: reading, the preflight checks, atomic writes, symlinks and rollback on real directories."""
import os
import stat

import pytest
from hypothesis import given, settings, strategies as st
from hypothesis_budget import examples

from ansible_collections.kubelayer.runtime.plugins.module_utils._common import files as F


def snapshot(root):
    """Every path under ``root``: type, mode, owner, size, inode, ctime, content or link target."""
    out = {}
    for base, dirs, names in os.walk(root):
        for name in dirs + names:
            path = os.path.join(base, name)
            s = os.lstat(path)
            extra = os.readlink(path) if stat.S_ISLNK(s.st_mode) else (
                open(path, "rb").read() if stat.S_ISREG(s.st_mode) else None)
            out[os.path.relpath(path, root)] = (stat.S_IFMT(s.st_mode), stat.S_IMODE(s.st_mode), s.st_uid, s.st_size,
                                                extra)
    return out


def test_read_helpers(tmp_path):
    path = tmp_path / "f"
    assert F.read_bytes(str(path)) is None
    assert F.read_bytes(str(tmp_path)) is None  # a directory reads as absent
    assert F.read_bytes("/x\0y") is None  # NUL in a path: no exception
    path.write_bytes(b"a\xffb")
    assert F.read_bytes(str(path)) == b"a\xffb"
    assert F.read_text(str(path)) == u"a\ufffdb"
    assert F.read_text(str(path), strict=True) is None


def test_new_file_with_parents_and_mode(tmp_path):
    files = F.HostFiles()
    dest = str(tmp_path / "a" / "b" / "f.conf")
    assert files.file("opt", dest, b"x\n", mode=0o600) is not None
    assert files.problems() == []
    files.commit()
    assert open(dest, "rb").read() == b"x\n"
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert os.listdir(os.path.dirname(dest)) == ["f.conf"]  # no temporary file left


def test_unchanged_file_is_no_change(tmp_path):
    dest = tmp_path / "f"
    dest.write_bytes(b"x")
    os.chmod(str(dest), 0o644)
    files = F.HostFiles()
    assert files.file("opt", str(dest), b"x") is None
    assert files.file("opt", str(dest), b"x", mode=0o600) is not None  # mode alone is a change


def test_existing_file_is_replaced_not_rewritten(tmp_path):
    dest = tmp_path / "f"
    dest.write_bytes(b"old")
    inode = os.stat(str(dest)).st_ino
    files = F.HostFiles()
    files.file("opt", str(dest), b"new")
    files.commit()
    assert dest.read_bytes() == b"new"
    assert os.stat(str(dest)).st_ino != inode  # renamed over, never truncated in place


def test_check_mode_writes_nothing(tmp_path):
    files = F.HostFiles(check_mode=True)
    files.file("opt", str(tmp_path / "d" / "f"), b"x")
    files.commit()
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("make, expected", [
    (os.mkdir, "is a directory, not a regular file"),
    (os.mkfifo, "is a special file"),
    (lambda p: os.symlink("/etc/passwd", p), "is a symlink (to /etc/passwd); refusing to write through it"),
])
def test_refused_destinations(tmp_path, make, expected):
    dest = str(tmp_path / "f")
    make(dest)
    before = snapshot(str(tmp_path))
    files = F.HostFiles()
    files.file("sysctl_file", dest, b"x")
    problems = files.problems()
    assert len(problems) == 1 and problems[0].startswith("sysctl_file: %s: " % dest) and expected in problems[0]
    with pytest.raises(F.HostFileError) as info:
        files.commit()
    assert info.value.problem.startswith("sysctl_file: " + dest)
    assert snapshot(str(tmp_path)) == before


def test_symlink_replace_policy_replaces_the_link_not_its_target(tmp_path):
    target = tmp_path / "target"
    target.write_bytes(b"keep")
    dest = tmp_path / "config.toml"
    os.symlink(str(target), str(dest))
    files = F.HostFiles()
    files.file("path", str(dest), b"new", symlink="replace")
    assert files.problems() == []
    files.commit()
    assert target.read_bytes() == b"keep"
    assert not os.path.islink(str(dest)) and dest.read_bytes() == b"new"


def test_symlinked_directory_below_root_is_refused(tmp_path):
    root = tmp_path / "render"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(str(elsewhere), str(root / "01-driver"))
    files = F.HostFiles()
    files.file("render_dir", str(root / "01-driver" / "values.yaml"), b"x", root=str(root))
    problems = files.problems()
    assert problems and "is a symlink" in problems[0] and problems[0].startswith("render_dir: ")
    assert os.listdir(str(elsewhere)) == []


def test_parent_that_is_a_file(tmp_path):
    (tmp_path / "conf").write_bytes(b"")
    files = F.HostFiles()
    files.file("cni_conf_dir", str(tmp_path / "conf" / "x"), b"x")
    assert "is a regular file, not a directory" in files.problems()[0]


def test_unwritable_parent(tmp_path, monkeypatch):
    monkeypatch.setattr(F.os, "access", lambda path, mode: False)
    files = F.HostFiles()
    files.file("dest", str(tmp_path / "f"), b"x")
    assert "is not writable" in files.problems()[0]


@pytest.mark.parametrize("path", ["relative/f", "/a/./b", "/a//b", "/a/../b", "/", ""])
def test_unnormalised_paths_refused(path):
    files = F.HostFiles()
    files.changes.append(F.Change("file", "opt", path, data=b"x", mode=0o644))
    assert files.problems()[0].startswith("opt: ")


def test_same_path_twice_is_refused(tmp_path):
    files = F.HostFiles()
    files.file("sysctl_file", str(tmp_path / "f"), b"a")
    files.file("modules_load_file", str(tmp_path / "f"), b"b")
    assert any("one file cannot serve both" in p for p in files.problems())


def test_validate_hook_refuses_before_rename(tmp_path):
    dest = tmp_path / "f"
    dest.write_bytes(b"old")
    files = F.HostFiles()
    files.file("path", str(dest), b"bad", validate=lambda tmp: "rejected %s" % open(tmp).read())
    with pytest.raises(F.HostFileError) as info:
        files.commit()
    assert info.value.problem == "path: %s: rejected bad" % dest
    assert dest.read_bytes() == b"old" and os.listdir(str(tmp_path)) == ["f"]


def _failing_rename(monkeypatch, fail_at):
    real = os.rename
    calls = {"n": 0}

    def rename(src, dst):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError(28, "No space left on device")
        return real(src, dst)
    monkeypatch.setattr(F.os, "rename", rename)


def test_failure_after_first_write_restores_everything(tmp_path, monkeypatch):
    (tmp_path / "keep").write_bytes(b"one")
    os.chmod(str(tmp_path / "keep"), 0o640)
    os.symlink("somewhere", str(tmp_path / "link"))
    before = snapshot(str(tmp_path))
    files = F.HostFiles()
    files.file("a", str(tmp_path / "keep"), b"changed")
    files.file("b", str(tmp_path / "new" / "dir" / "f"), b"x")
    files.link("c", str(tmp_path / "plugin"), "/usr/lib/cni/plugin")
    files.absent("d", str(tmp_path / "link"))
    files.directory("e", str(tmp_path / "made"), mode=0o700)
    files.file("f", str(tmp_path / "last"), b"x")
    _failing_rename(monkeypatch, 3)  # keep, new/dir/f, then "last" fails
    with pytest.raises(F.HostFileError) as info:
        files.commit()
    assert info.value.problem == "f: %s: No space left on device" % (tmp_path / "last")
    assert snapshot(str(tmp_path)) == before


@settings(max_examples=examples(40))
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d/e", "d/f"]), st.binary(max_size=20),
                          st.sampled_from([0o600, 0o644])), min_size=1, max_size=6, unique_by=lambda t: t[0]),
       st.integers(min_value=1, max_value=7))
def test_property_any_failing_write_leaves_the_tree_unchanged(tmp_path_factory, plan, fail_at):
    root = str(tmp_path_factory.mktemp("prop"))
    with open(os.path.join(root, "a"), "wb") as handle:
        handle.write(b"existing")
    before = snapshot(root)
    files = F.HostFiles()
    for name, data, mode in plan:
        files.file(name, os.path.join(root, name), data, mode=mode)
    real = os.rename
    calls = {"n": 0}

    def rename(src, dst):
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError(5, "Input/output error")
        return real(src, dst)
    F.os.rename = rename
    try:
        files.commit()
        failed = False
    except F.HostFileError as exc:
        failed = True
        assert exc.problem.split(":")[0] in [n for n, _d, _m in plan]
    finally:
        F.os.rename = real
    if failed:
        assert snapshot(root) == before
    else:
        for name, data, mode in plan:
            assert open(os.path.join(root, name), "rb").read() == data
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) == mode


class _Module(object):
    def fail_json(self, **kw):
        raise SystemExit(kw)


def test_commit_or_fail(tmp_path):
    files = F.HostFiles()
    files.file("dest", str(tmp_path / "a"), b"x")
    diffs = F.commit_or_fail(_Module(), "mod", files)
    assert diffs == [{"before_header": str(tmp_path / "a"), "after_header": str(tmp_path / "a"), "before": "",
                      "after": "x"}]
    os.mkdir(str(tmp_path / "d"))
    files = F.HostFiles()
    files.file("dest", str(tmp_path / "d"), b"x")
    with pytest.raises(SystemExit) as info:
        F.commit_or_fail(_Module(), "mod", files, extra=1)
    assert info.value.args[0]["problems"] == ["dest: %s: is a directory, not a regular file" % (tmp_path / "d")]
    assert info.value.args[0]["extra"] == 1 and info.value.args[0]["msg"].startswith("mod: 1 problem:")


@pytest.mark.parametrize("check_mode", [False, True])
def test_sync_owned(tmp_path, check_mode):
    """Each named file as given, None removes it; check mode reports the same and writes nothing."""
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "old.yaml").write_text("old\n")
    (dest / "same.yaml").write_text("same\n")
    (dest / "mine.txt").write_text("not owned\n")
    module = _Module()
    module.check_mode = check_mode
    before = snapshot(str(dest))
    written, diffs = F.sync_owned(module, "mod", str(dest),
                                  {"new.yaml": u"new \u00e9\n", "same.yaml": "same\n", "old.yaml": None, "gone": None},
                                  ".test-")
    assert written == [str(dest / "new.yaml"), str(dest / "old.yaml")]
    assert [(d["after_header"], d["before"], d["after"]) for d in diffs] == [
        (str(dest / "new.yaml"), "", u"new \u00e9\n"), (str(dest / "old.yaml"), "old\n", "")]
    if check_mode:
        assert snapshot(str(dest)) == before
    else:
        assert sorted(os.listdir(str(dest))) == ["mine.txt", "new.yaml", "same.yaml"]
        assert (dest / "new.yaml").read_bytes() == u"new \u00e9\n".encode("utf-8")
        assert stat.S_IMODE(os.stat(str(dest / "new.yaml")).st_mode) == 0o644
