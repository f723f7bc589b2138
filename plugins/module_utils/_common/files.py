# -*- coding: utf-8 -*-
# Copyright: kubelayer.runtime developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading host files and the one safe write path. Private to this collection (see ``__init__``).

``HostFiles`` is a small transaction over the files, directories and links one module run changes:

1. ``file()``, ``absent()``, ``directory()``, ``link()`` record what should change (they only read).
2. ``problems()`` checks every destination before anything is written: the path is absolute and normalised, it is
   not a directory or a special file, its parent is (or can be created as) a directory, that directory is writable,
   no path component below the change's ``root`` is a symlink, and no path is claimed twice in one run.
3. ``commit()`` writes: a temporary file in the same directory (mode set before the data goes in, owner and SELinux
   label kept from the file it replaces), ``fsync``, ``rename``, then the directory is synced. A reader sees the old
   file or the new one. When any step fails, everything this run already changed is put back as it was
   (content, mode, owner; created files, links and directories removed) and ``HostFileError`` names the file.

Symlinks: nothing is ever written *through* a symlink (``rename`` replaces the name, it never follows it). A symlink
found at a destination is **refused** by default (``symlink="refuse"``): a link planted in a managed directory is a
problem the user must look at. A caller may pass ``symlink="replace"`` where a link at that exact path is something
the module owns and replaces with a regular file (``containerd_config`` does, as containerd itself would). A symlink
as a directory component below ``root`` is always refused.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile

from ansible_collections.kubelayer.runtime.plugins.module_utils._common.problems import fail, fail_if

_SELINUX = "security.selinux"


class HostFileError(Exception):
    """A write that could not be done; ``problem`` starts with the option and names the file."""

    def __init__(self, option, path, text):
        self.option, self.path, self.text = option, path, text
        self.problem = "%s: %s: %s" % (option, path, text)
        super(HostFileError, self).__init__(self.problem)


def read_bytes(path):
    """The bytes of ``path``, or ``None`` when it is absent or cannot be read (a directory, no permission...)."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError, ValueError):
        return None


def read_text(path, strict=False):
    """``read_bytes`` decoded as UTF-8: invalid bytes replaced, or ``None`` for them when ``strict``."""
    data = read_bytes(path)
    if data is None:
        return None
    try:
        return data.decode("utf-8", "strict" if strict else "replace")
    except UnicodeDecodeError:
        return None


def lstat(path):
    """``os.lstat`` or ``None`` when the path does not exist (or cannot be looked at)."""
    try:
        return os.lstat(path)
    except (OSError, ValueError):
        return None


def _describe(st):
    for test, name in ((stat.S_ISLNK, "a symlink"), (stat.S_ISDIR, "a directory"), (stat.S_ISREG, "a regular file")):
        if test(st.st_mode):
            return name
    return "a special file (device, FIFO or socket)"


class Change(object):
    """One recorded change. ``kind``: file, absent, directory or link. ``before``: bytes (file) or None."""

    def __init__(self, kind, option, path, **kw):
        self.kind, self.option, self.path = kind, option, path
        self.data = kw.get("data")
        self.mode = kw.get("mode")
        self.root = kw.get("root")
        self.symlink = kw.get("symlink", "refuse")
        self.validate = kw.get("validate")
        self.target = kw.get("target")
        self.before = kw.get("before")
        self.st = kw.get("st")
        self.link_target = None
        if self.st is not None and stat.S_ISLNK(self.st.st_mode):
            try:
                self.link_target = os.readlink(path)
            except OSError:
                self.link_target = None

    def diff(self):
        """One diff-mode entry (``before_header``, ``after_header``, ``before``, ``after``) for this change."""
        st = self.st
        if self.kind == "directory":
            before = "absent\n" if st is None else ("directory mode %04o\n" % stat.S_IMODE(st.st_mode)
                                                    if stat.S_ISDIR(st.st_mode) else _describe(st) + "\n")
            after = "directory\n" if self.mode is None else "directory mode %04o\n" % self.mode
        elif self.kind == "link":
            before, after = "absent\n", "symlink to %s\n" % self.target
        else:
            before = _text(self.before) if self.before is not None else (
                "" if st is None else "%s\n" % _describe(st))
            after = _text(self.data) if self.kind == "file" else ""
        return {"before_header": self.path, "after_header": self.path, "before": before, "after": after}


def _text(data):
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else (data or "")


class HostFiles(object):
    """Record, check, then commit (or roll back) the host changes of one module run."""

    def __init__(self, check_mode=False, prefix=".kubelayer."):
        self.check_mode = check_mode
        self.prefix = prefix
        self.changes = []
        self._undo = []

    # -- recording (read only) ------------------------------------------------------------------------------
    def file(self, option, path, data, mode=0o644, root=None, symlink="refuse", validate=None):
        """``path`` should hold ``data`` (bytes) with ``mode``. Returns the ``Change`` or ``None`` (already so)."""
        st = lstat(path)
        before = read_bytes(path) if st is not None and stat.S_ISREG(st.st_mode) else None
        if before == data and stat.S_IMODE(st.st_mode) == mode:
            return None
        change = Change("file", option, path, data=data, mode=mode, root=root, symlink=symlink, validate=validate,
                        before=before, st=st)
        self.changes.append(change)
        return change

    def absent(self, option, path, root=None):
        """``path`` should not exist (a regular file or a symlink is removed). Returns the ``Change`` or ``None``."""
        st = lstat(path)
        if st is None:
            return None
        before = read_bytes(path) if stat.S_ISREG(st.st_mode) else None
        change = Change("absent", option, path, root=root, before=before, st=st)
        self.changes.append(change)
        return change

    def directory(self, option, path, mode=None, root=None):
        """``path`` should be a directory (with ``mode`` when given). Returns the ``Change`` or ``None``."""
        st = lstat(path)
        if st is not None and stat.S_ISDIR(st.st_mode) and (mode is None or stat.S_IMODE(st.st_mode) == mode):
            return None
        change = Change("directory", option, path, mode=mode, root=root, st=st)
        self.changes.append(change)
        return change

    def link(self, option, path, target, root=None):
        """``path`` should be a symlink to ``target`` when it does not exist yet. Returns the ``Change`` or ``None``."""
        st = lstat(path)
        if st is not None:
            return None
        change = Change("link", option, path, target=target, root=root, st=st)
        self.changes.append(change)
        return change

    # -- checking (read only) -------------------------------------------------------------------------------
    def problems(self):
        """Every reason the recorded changes cannot be made, before anything is written."""
        problems, seen = [], {}
        for change in self.changes:
            if change.path in seen and seen[change.path] != change.option:
                problems.append("%s: %s is also written for %s; one file cannot serve both"
                                % (change.option, change.path, seen[change.path]))
            seen.setdefault(change.path, change.option)
            problems.extend(check_destination(change))
        return problems

    # -- writing --------------------------------------------------------------------------------------------
    def commit(self):
        """Make every recorded change (nothing in check mode). On failure: roll back, raise ``HostFileError``."""
        if self.check_mode or not self.changes:
            return
        current = None
        try:
            for change in self.changes:
                current = change
                self._apply(change)
        except HostFileError as exc:
            self._fail(exc)
        except (IOError, OSError) as exc:
            self._fail(HostFileError(current.option, current.path, os.strerror(exc.errno) if exc.errno else str(exc)))

    def _fail(self, error):
        failed = self.rollback()
        if failed:
            error = HostFileError(error.option, error.path, error.text + "; could not restore "
                                  + ", ".join(failed))
        raise error

    def _apply(self, change):
        problems = check_destination(change)
        if problems:
            raise HostFileError(change.option, change.path, problems[0][len(change.option) + len(change.path) + 4:])
        self._make_parents(os.path.dirname(change.path))
        if change.kind == "file":
            self._write(change)
        elif change.kind == "absent":
            self._undo.append(("restore", change))
            os.unlink(change.path)
        elif change.kind == "directory":
            self._directory(change)
        else:
            os.symlink(change.target, change.path)
            self._undo.append(("unlink", change.path))

    def _make_parents(self, directory):
        missing = []
        while lstat(directory) is None and directory not in ("/", ""):
            missing.append(directory)
            directory = os.path.dirname(directory)
        for path in reversed(missing):
            os.mkdir(path, 0o755)
            self._undo.append(("rmdir", path))

    def _directory(self, change):
        if change.st is None:
            os.mkdir(change.path, 0o755)
            self._undo.append(("rmdir", change.path))
        else:
            self._undo.append(("chmod", change.path, stat.S_IMODE(change.st.st_mode)))
        if change.mode is not None:
            os.chmod(change.path, change.mode)

    def _write(self, change):
        keep = change.st if change.st is not None and stat.S_ISREG(change.st.st_mode) else None
        tmp = write_temp(os.path.dirname(change.path), change.data, change.mode, keep, change.path, self.prefix)
        try:
            if change.validate is not None:
                error = change.validate(tmp)
                if error:
                    raise HostFileError(change.option, change.path, error)
            self._undo.append(("restore", change))
            os.rename(tmp, change.path)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
        _sync_directory(os.path.dirname(change.path))

    def rollback(self):
        """Undo what ``commit`` did so far, newest first. Returns the paths that could not be restored."""
        failed = []
        while self._undo:
            step = self._undo.pop()
            try:
                _undo_step(step, self.prefix)
            except (IOError, OSError):
                failed.append(step[1].path if step[0] == "restore" else step[1])
        return failed


def _undo_step(step, prefix):
    action, target = step[0], step[1]
    if action == "rmdir":
        os.rmdir(target)
    elif action == "unlink":
        os.unlink(target)
    elif action == "chmod":
        os.chmod(target, step[2])
    elif target.before is not None:
        tmp = write_temp(os.path.dirname(target.path), target.before, stat.S_IMODE(target.st.st_mode), target.st,
                         target.path, prefix)
        os.rename(tmp, target.path)
    elif target.link_target is not None:
        # a replaced or removed symlink comes back with its old target
        if os.path.lexists(target.path):
            os.unlink(target.path)
        os.symlink(target.link_target, target.path)
    elif os.path.lexists(target.path):
        os.unlink(target.path)


def check_destination(change):
    """Every reason ``change`` cannot be made safely (read only): ``["<option>: <path>: ..."]``."""
    path, where = change.path, "%s: %s" % (change.option, change.path)
    if not isinstance(path, str) or not path.startswith("/") or os.path.normpath(path) != path or path == "/":
        return ["%s: is not an absolute, normalised path other than /" % where]
    problems = _check_components(change, where)
    st = lstat(path)
    if st is not None and stat.S_ISLNK(st.st_mode):
        if not (change.kind == "absent" or (change.kind == "file" and change.symlink == "replace")):
            problems.append("%s: is a symlink (to %s); refusing to write through it: remove it or choose another "
                            "path" % (where, _readlink(path)))
    elif st is not None and change.kind in ("file", "absent") and not stat.S_ISREG(st.st_mode):
        problems.append("%s: is %s, not a regular file" % (where, _describe(st)))
    elif st is not None and change.kind == "directory" and not stat.S_ISDIR(st.st_mode):
        problems.append("%s: is %s, not a directory" % (where, _describe(st)))
    elif st is not None and change.kind == "link":
        problems.append("%s: already exists" % where)
    if not problems:
        problems.extend(_check_parent(os.path.dirname(path), where))
    return problems


def _readlink(path):
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def _check_components(change, where):
    """No symlink and no non-directory among the components strictly between ``root`` and the path."""
    if change.root is None:
        return []
    root = change.root.rstrip("/") or "/"
    if not change.path.startswith(root.rstrip("/") + "/"):
        return ["%s: is not below %s" % (where, root)]
    problems = []
    current = root
    for part in change.path[len(root):].strip("/").split("/")[:-1]:
        current = os.path.join(current, part)
        st = lstat(current)
        if st is None:
            break
        if stat.S_ISLNK(st.st_mode):
            problems.append("%s: %s is a symlink (to %s); refusing to write through it"
                            % (where, current, _readlink(current)))
            break
        if not stat.S_ISDIR(st.st_mode):
            problems.append("%s: %s is %s, not a directory" % (where, current, _describe(st)))
            break
    return problems


def _check_parent(directory, where):
    """The nearest existing ancestor of ``directory`` is a writable directory (missing ones get created)."""
    while lstat(directory) is None and directory not in ("/", ""):
        directory = os.path.dirname(directory)
    try:
        st = os.stat(directory)
    except OSError as exc:
        return ["%s: cannot look at %s: %s" % (where, directory, os.strerror(exc.errno))]
    if not stat.S_ISDIR(st.st_mode):
        return ["%s: %s is %s, not a directory" % (where, directory, _describe(st))]
    if not os.access(directory, os.W_OK | os.X_OK):
        return ["%s: the directory %s is not writable (read-only file system or permissions)" % (where, directory)]
    return []


def write_temp(directory, data, mode, keep=None, label=None, prefix=".kubelayer."):
    """A synced temporary file in ``directory`` holding ``data`` with ``mode`` (set before writing), the owner and
    SELinux label of ``keep`` (an ``os.stat_result`` of ``label``, the file it will replace). Returns its path."""
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=directory)
    try:
        os.fchmod(fd, mode)
        if keep is not None and (keep.st_uid, keep.st_gid) != (os.geteuid(), os.getegid()):
            os.fchown(fd, keep.st_uid, keep.st_gid)
        if keep is not None and label is not None:
            _copy_label(label, fd)
        with os.fdopen(fd, "wb") as handle:
            fd = None
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        if fd is not None:
            os.close(fd)
        os.unlink(tmp)
        raise
    return tmp


def _copy_label(path, fd):
    try:
        os.setxattr(fd, _SELINUX, os.getxattr(path, _SELINUX, follow_symlinks=False))
    except (OSError, AttributeError):
        pass


def _sync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def commit_or_fail(module, name, host, **extra):
    """Check every recorded change, then commit; any problem ends the module in the one failure shape.

    ``module`` is the calling AnsibleModule (duck-typed), ``name`` the module's short name. Returns the diff-mode
    entries of the changes (made, or to be made in check mode).
    """
    fail_if(module, name, host.problems(), **extra)
    try:
        host.commit()
    except HostFileError as exc:
        fail(module, name, [exc.problem], **extra)
    return [change.diff() for change in host.changes]


def sync_owned(module, name, dest, tree, prefix):
    """Each file of ``tree`` (``{file name: text, or None for absent}``) in the directory ``dest``, mode 0644, through
    one HostFiles run: every change checked first, then committed (``commit_or_fail``). Returns the paths changed
    and the diff-mode entries, in the order of ``tree``."""
    files = HostFiles(module.check_mode, prefix=prefix)
    for file_name, text in tree.items():
        path = os.path.join(dest, file_name)
        if text is None:
            files.absent("dest", path, root=dest)
        else:
            data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
            files.file("dest", path, data, 0o644, root=dest)
    diffs = commit_or_fail(module, name, files)
    return [c.path for c in files.changes], diffs
