"""Write each role's variable reference into docs/roles/<role>.md from its meta/argument_specs.yml.

The section between the two markers below is generated; everything else on the page is written by hand.
usage: python tests/utils/role_docs.py [--check]   (--check: exit 1 when a page is out of date)
"""
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEGIN = "<!-- BEGIN generated from meta/argument_specs.yml: python tests/utils/role_docs.py -->"
END = "<!-- END generated -->"


def _text(value):
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return " ".join(str(value or "").split()).replace("|", "\\|")


def _default(spec):
    if "default" not in spec:
        return "required" if spec.get("required") else ""
    return "`%s`" % _text(yaml.safe_dump(spec["default"], default_flow_style=True).strip().rstrip(".").strip())


def section(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
        specs = yaml.safe_load(handle)["argument_specs"]
    lines = [BEGIN, "", "## Variable reference", ""]
    for entry, spec in specs.items():
        lines.append("### Entry point `%s`" % entry)
        lines.append("")
        lines.append(_text(spec.get("short_description")))
        lines.append("")
        lines.append("| variable | type | default | description |")
        lines.append("|---|---|---|---|")
        for name, opt in sorted((spec.get("options") or {}).items()):
            kind = opt.get("type", "str")
            if opt.get("elements"):
                kind = "%s of %s" % (kind, opt["elements"])
            if opt.get("choices"):
                kind += " (%s)" % ", ".join(str(c) for c in opt["choices"])
            lines.append("| `%s` | %s | %s | %s |" % (name, _text(kind), _default(opt), _text(opt.get("description"))))
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def render(role, text):
    new = section(role)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        return head + new + tail
    return text.rstrip("\n") + "\n\n" + new + "\n"


def main(check):
    stale = []
    for role in sorted(os.listdir(os.path.join(ROOT, "roles"))):
        page = os.path.join(ROOT, "docs", "roles", role + ".md")
        with open(page) as handle:
            text = handle.read()
        new = render(role, text)
        if new != text:
            stale.append(page)
            if not check:
                with open(page, "w") as handle:
                    handle.write(new)
    if check and stale:
        print("out of date (run python tests/utils/role_docs.py): %s" % ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
