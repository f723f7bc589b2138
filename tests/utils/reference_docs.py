"""Generate the reference docs: docs/modules/<module>.md and the variable reference in docs/roles/<role>.md.

Module pages are generated whole from each module's DOCUMENTATION, EXAMPLES and RETURN, read through
``ansible-doc --json`` (doc fragments resolved, exactly what ``ansible-doc`` shows). Role pages are written by hand
except the section between BEGIN and END, generated from the role's meta/argument_specs.yml. Ansible markup
(C(), O(), V(), RV(), M(), L(), U(), I(), B()) is parsed with antsibull-docs-parser and written as Markdown.
The narrative pages (docs/*.md) are written by hand; this script does not touch them.

usage: python tests/utils/reference_docs.py [--check]   (`make docs`; --check: exit 1 and name every page that
differs from what would be generated, or that documents a module that does not exist)
"""
import json
import os
import re
import shutil
import subprocess
import sys

import yaml
from antsibull_docs_parser import dom, parser
from antsibull_docs_parser.format import Formatter, format_paragraphs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION = "kubelayer.runtime"
MODULE_DIR = os.path.join(ROOT, "plugins", "modules")
BEGIN = "<!-- BEGIN generated from meta/argument_specs.yml by `make docs` -->"
END = "<!-- END generated -->"
MODULE_HEADER = ("<!-- generated from plugins/modules/%s.py (DOCUMENTATION, EXAMPLES, RETURN) by `make docs`: "
                 "edit the module, not this page -->")
_DOCS_LINK = re.compile(r"\bdocs/([A-Za-z0-9_./-]+\.md)\b")
_ESCAPE = re.compile(r"([\\*\[\]<>`])")


def _code(text):
    text = str(text)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return "%s%s%s%s%s" % (fence, pad, text, pad, fence)


class _Markdown(Formatter):
    """Plain GitHub Markdown: inline code in backticks, links to the collection's own module pages."""

    def __init__(self, page_dir):
        self.page_dir = page_dir

    def _docs_link(self, match):
        target = os.path.relpath(os.path.join(ROOT, "docs", match.group(1)), self.page_dir)
        return "[docs/%s](%s)" % (match.group(1), target)

    def format_text(self, part):
        return _DOCS_LINK.sub(self._docs_link, _ESCAPE.sub(r"\\\1", part.text))

    def format_error(self, part):
        raise ValueError("bad Ansible markup: %s" % part.message)

    def format_bold(self, part):
        return "**%s**" % part.text

    def format_italic(self, part):
        return "*%s*" % part.text

    def format_code(self, part):
        return _code(part.text)

    def format_horizontal_line(self, part):
        return "<hr>"

    def format_link(self, part):
        return "[%s](%s)" % (part.text, part.url)

    def format_url(self, part):
        return "<%s>" % part.url

    def format_rst_ref(self, part):
        return part.text

    def format_env_variable(self, part):
        return _code(part.name)

    def format_option_value(self, part):
        return _code(part.value)

    def _option_like(self, part):
        text = part.name if part.value is None else "%s=%s" % (part.name, part.value)
        return _code(text)

    def format_option_name(self, part, url):
        return self._option_like(part)

    def format_return_value(self, part, url):
        return self._option_like(part)

    def _plugin(self, fqcn):
        if fqcn.startswith(COLLECTION + ".") and os.path.isfile(
                os.path.join(MODULE_DIR, fqcn.rsplit(".", 1)[1] + ".py")):
            target = os.path.relpath(os.path.join(ROOT, "docs", "modules", fqcn.rsplit(".", 1)[1] + ".md"),
                                     self.page_dir)
            return "[%s](%s)" % (fqcn, target)
        return _code(fqcn)

    def format_module(self, part, url):
        return self._plugin(part.fqcn)

    def format_plugin(self, part, url):
        return self._plugin(part.plugin.fqcn)


class _Writer(object):
    """Markup to Markdown for one page: a block of paragraphs, or one table cell."""

    def __init__(self, page_dir, context):
        self.formatter = _Markdown(page_dir)
        self.context = context

    def block(self, text):
        if text is None or text == "" or text == []:
            return ""
        paragraphs = parser.parse(text if isinstance(text, list) else [str(text)], self.context, errors="exception")
        return format_paragraphs(paragraphs, formatter=self.formatter, par_sep="\n\n",
                                 postprocess_paragraph=lambda p: " ".join(p.split()))

    def cell(self, text):
        return self.block(text).replace("\n\n", "<br>").replace("|", "\\|")


def _value(value):
    """A default, choice or sample as inline code (flow YAML: the way it is written in a playbook)."""
    if isinstance(value, str):
        return _code(value) if value else '`""`'
    text = yaml.safe_dump(value, default_flow_style=True, width=10 ** 6).strip()
    if text.endswith("\n..."):
        text = text[:-4].strip()
    return _code(text.rstrip(".").strip() if text.endswith("...") else text).replace("|", "\\|")


def _kind(spec):
    kind = spec.get("type", "str")
    if spec.get("elements"):
        kind = "%s of %s" % (kind, spec["elements"])
    return kind


def _default(spec):
    if spec.get("required"):
        return "required"
    if "default" in spec and spec["default"] is not None:
        return _value(spec["default"])
    return ""


def _description(writer, spec):
    text = writer.cell(spec.get("description"))
    extra = []
    if spec.get("choices"):
        choices = spec["choices"]
        values = choices if isinstance(choices, list) else list(choices)
        extra.append("Choices: %s." % ", ".join(_value(c).replace("\\|", "|") for c in values).replace("|", "\\|"))
    if spec.get("aliases"):
        extra.append("Aliases: %s." % ", ".join(_code(a) for a in spec["aliases"]))
    if spec.get("version_added") and spec.get("version_added") != "0.1.0":
        extra.append("Added in %s." % spec["version_added"])
    return "<br>".join([t for t in [text] + extra if t])


def option_rows(writer, options, prefix=""):
    rows = []
    for name, spec in sorted((options or {}).items()):
        full = prefix + name
        rows.append("| %s | %s | %s | %s |" % (_code(full), _kind(spec), _default(spec), _description(writer, spec)))
        nested = spec.get("suboptions") or spec.get("options")
        if nested:
            sep = "[]." if spec.get("type") == "list" else "."
            rows.extend(option_rows(writer, nested, full + sep))
    return rows


def return_rows(writer, returns, prefix=""):
    rows = []
    for name, spec in sorted((returns or {}).items()):
        full = prefix + name
        text = writer.cell(spec.get("description"))
        if "sample" in spec:
            text += "%sSample: %s" % ("<br>" if text else "", _value(spec["sample"]))
        rows.append("| %s | %s | %s | %s |" % (_code(full), _kind(spec), writer.cell(spec.get("returned", "")), text))
        if spec.get("contains"):
            sep = "[]." if spec.get("type") == "list" else "."
            rows.extend(return_rows(writer, spec["contains"], full + sep))
    return rows


def _attribute_rows(writer, attributes):
    rows = []
    for name, spec in sorted((attributes or {}).items()):
        text = writer.cell(spec.get("description"))
        if spec.get("platforms"):
            platforms = spec["platforms"]
            text += "<br>Platforms: %s." % ", ".join(platforms if isinstance(platforms, list) else [platforms])
        if spec.get("details"):
            text += "<br>" + writer.cell(spec["details"])
        rows.append("| %s | %s | %s |" % (_code(name), spec.get("support", ""), text))
    return rows


def _see_also(writer, entries):
    lines = []
    for entry in entries or []:
        if "module" in entry:
            item = writer.formatter._plugin(entry["module"])
        elif "plugin" in entry:
            item = writer.formatter._plugin(entry["plugin"])
        elif "link" in entry:
            item = "[%s](%s)" % (entry.get("name", entry["link"]), entry["link"])
        else:
            item = entry.get("name", "")
        if entry.get("description"):
            item += ": " + writer.block(entry["description"])
        lines.append("- " + item)
    return lines


def module_page(name, data):
    doc = data["doc"]
    fqcn = "%s.%s" % (COLLECTION, name)
    context = parser.Context(current_plugin=dom.PluginIdentifier(fqcn=fqcn, type="module"))
    writer = _Writer(os.path.join(ROOT, "docs", "modules"), context)
    out = [MODULE_HEADER % name, "", "# %s" % fqcn, "", writer.block(doc.get("short_description")) + ".", ""]
    if doc.get("version_added"):
        out += ["Added in version %s. Reference on the command line: `ansible-doc %s`." % (doc["version_added"], fqcn),
                ""]
    out += [writer.block(doc.get("description")), ""]
    if os.path.isfile(os.path.join(ROOT, "docs", "internals", name + ".md")):
        out += ["How it works, written by hand: [docs/internals/%s.md](../internals/%s.md)." % (name, name), ""]
    if doc.get("requirements"):
        out += ["## Requirements", ""] + ["- " + writer.block(r) for r in doc["requirements"]] + [""]
    out += ["## Options", "", "| option | type | default | description |", "|---|---|---|---|"]
    out += option_rows(writer, doc.get("options")) + [""]
    if doc.get("attributes"):
        out += ["## Attributes", "", "| attribute | support | description |", "|---|---|---|"]
        out += _attribute_rows(writer, doc["attributes"]) + [""]
    if doc.get("notes"):
        out += ["## Notes", ""] + ["- " + writer.block(n) for n in doc["notes"]] + [""]
    if doc.get("seealso"):
        out += ["## See also", ""] + _see_also(writer, doc["seealso"]) + [""]
    if (data.get("examples") or "").strip():
        out += ["## Examples", "", "```yaml", data["examples"].strip("\n"), "```", ""]
    if data.get("return"):
        out += ["## Return values", "", "| key | type | returned | description |", "|---|---|---|---|"]
        out += return_rows(writer, data["return"]) + [""]
    return "\n".join(out)


def _ansible_doc_command():
    found = shutil.which("ansible-doc")
    if found:
        return [found]
    return [sys.executable, "-m", "ansible.cli.doc"]


def module_docs(modules):
    """ansible-doc --json for every module at once: {name: {doc, examples, return, metadata}}."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, ".venv", "collections"))
    env["ANSIBLE_NOCOLOR"] = "1"
    proc = subprocess.run(_ansible_doc_command() + ["--json", "-t", "module"]
                          + ["%s.%s" % (COLLECTION, m) for m in modules],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError("ansible-doc failed (%d): %s" % (proc.returncode, proc.stderr.strip()))
    data = json.loads(proc.stdout)
    found = {key.rsplit(".", 1)[1]: value for key, value in data.items()}
    missing = sorted(set(modules) - set(found))
    if missing:
        raise RuntimeError("ansible-doc found no documentation for %s (is %s on ANSIBLE_COLLECTIONS_PATH?)"
                           % (missing, COLLECTION))
    for name, value in found.items():
        real = os.path.realpath(value["doc"].get("filename", ""))
        if real != os.path.realpath(os.path.join(MODULE_DIR, name + ".py")):
            raise RuntimeError("ansible-doc read %s from %s, not from this checkout" % (name, real))
    return found


def role_section(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    lines = [BEGIN, "", "## Variable reference", ""]
    for entry, spec in specs.items():
        context = parser.Context(current_plugin=dom.PluginIdentifier(fqcn="%s.%s" % (COLLECTION, role), type="role"),
                                 role_entrypoint=entry)
        writer = _Writer(os.path.join(ROOT, "docs", "roles"), context)
        lines += ["### Entry point `%s`" % entry, ""]
        if spec.get("short_description"):
            lines += [writer.block(spec["short_description"]), ""]
        lines += ["| variable | type | default | description |", "|---|---|---|---|"]
        lines += option_rows(writer, spec.get("options")) + [""]
    lines.append(END)
    return "\n".join(lines)


def role_page(role, text):
    new = role_section(role)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + new + rest.split(END, 1)[1]
    return text.rstrip("\n") + "\n\n" + new + "\n"


def modules():
    return sorted(f[:-3] for f in os.listdir(MODULE_DIR) if f.endswith(".py") and not f.startswith("_"))


def roles():
    return sorted(d for d in os.listdir(os.path.join(ROOT, "roles"))
                  if os.path.isfile(os.path.join(ROOT, "roles", d, "meta", "argument_specs.yml")))


def expected_pages():
    """{path: content} of every generated page, as it should be now."""
    pages = {}
    for name, data in sorted(module_docs(modules()).items()):
        pages[os.path.join(ROOT, "docs", "modules", name + ".md")] = module_page(name, data)
    for role in roles():
        path = os.path.join(ROOT, "docs", "roles", role + ".md")
        text = ""
        if os.path.isfile(path):
            with open(path) as handle:
                text = handle.read()
        pages[path] = role_page(role, text)
    return pages


def drift():
    """(stale pages, pages of modules that do not exist), as paths relative to the checkout."""
    pages = expected_pages()
    stale = []
    for path, content in sorted(pages.items()):
        current = None
        if os.path.isfile(path):
            with open(path) as handle:
                current = handle.read()
        if current != content:
            stale.append(os.path.relpath(path, ROOT))
    module_pages = os.path.join(ROOT, "docs", "modules")
    orphans = sorted(os.path.relpath(os.path.join(module_pages, f), ROOT) for f in os.listdir(module_pages)
                     if os.path.join(module_pages, f) not in pages)
    return stale, orphans, pages


def main(argv):
    stale, orphans, pages = drift()
    if "--check" in argv:
        for path in stale:
            print("out of date: %s" % path)
        for path in orphans:
            print("documents no module: %s" % path)
        if stale or orphans:
            print("run `make docs` and commit the result")
            return 1
        return 0
    for path in stale:
        with open(os.path.join(ROOT, path), "w") as handle:
            handle.write(pages[os.path.join(ROOT, path)])
        print("wrote %s" % path)
    for path in orphans:
        os.unlink(os.path.join(ROOT, path))
        print("removed %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
