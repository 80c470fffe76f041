#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Checks reStructuredText files of the kernel's Documentation/ with docutils.

    rst-check.py [--new FILE]... FILE...

Parses each FILE with docutils (Debian's python3-docutils) and prints every
system message of level WARNING or above as "FILE:LINE: LEVEL: text".
Sphinx's and the kernel's own roles and directives (:ref:, :c:func:,
toctree, kernel-doc, flat-table, ...) are not docutils': they are accepted
here without being checked, so this is the docutils part of what
`make htmldocs` reports (markup, sections, lists, tables, literal blocks,
substitutions, internal targets), not cross-references.

For each --new FILE (a document the tree did not have), also checks what
Sphinx would report as "document isn't included in any toctree": some .rst
file of the same directory must list it in a toctree.
Exit status: 1 if anything was printed.
"""

import io
import os
import re
import sys

from docutils import nodes, utils
from docutils.core import publish_doctree
from docutils.parsers.rst import Directive, directives, roles

# Sphinx's and the kernel's interpreted-text roles: accepted, rendered as
# literal text.
ROLES = """ref doc any numref download envvar option command file program
samp abbr kbd menuselection guilabel term manpage keyword token
c:func c:type c:macro c:struct c:union c:enum c:enumerator c:member c:data
c:var c:expr c:texpr c:identifier cpp:func cpp:type cpp:class""".split()

# Sphinx's and the kernel's directives: accepted with any argument, option
# and content; not rendered.
DIRECTIVES = """toctree kernel-doc kernel-feat kernel-abi kernel-include
kernel-figure kernel-image kernel-render flat-table cssclass only index
highlight code-block sourcecode literalinclude glossary seealso
versionadded versionchanged deprecated tabularcolumns centered hlist
c:function c:type c:macro c:struct c:union c:enum c:enumerator c:member
c:var c:namespace c:namespace-push c:namespace-pop c:alias
cpp:function cpp:type cpp:class sectionauthor codeauthor rst-class
productionlist default-domain""".split()

TOCTREE_ENTRIES = []


def literal_role(name, rawtext, text, lineno, inliner, options=None,
                 content=None):
    return [nodes.literal(rawtext, utils.unescape(text))], []


class AnyDirective(Directive):
    optional_arguments = 100
    final_argument_whitespace = True
    has_content = True
    option_spec = None

    def run(self):
        if self.name == "toctree":
            for line in self.content:
                line = line.strip()
                m = re.match(r"^.*<([^>]+)>$", line)
                if m:
                    line = m.group(1)
                if line and not line.startswith(":"):
                    TOCTREE_ENTRIES.append(line)
        return []


class AnyOptions(dict):
    """An option_spec that accepts every option, with or without value."""

    def __getitem__(self, key):
        return directives.unchanged

    def __contains__(self, key):
        return True


AnyDirective.option_spec = AnyOptions()


def setup():
    for r in ROLES:
        roles.register_local_role(r, literal_role)
    for d in DIRECTIVES:
        directives.register_directive(d, AnyDirective)


def check(path):
    """Messages of level >= WARNING for one file, as printable lines."""
    stream = io.StringIO()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    publish_doctree(text, source_path=path, settings_overrides={
        "report_level": 2, "halt_level": 5, "warning_stream": stream,
        # the kernel's docs include files by relative path
        "file_insertion_enabled": True, "raw_enabled": True,
        "input_encoding": "utf-8", "tab_width": 8,
    })
    out = []
    for line in stream.getvalue().splitlines():
        # docutils: "FILE:LINE: (LEVEL/N) text"
        m = re.match(r"^(.*?):(\d*):? \((\w+)/\d\) (.*)$", line)
        if m:
            out.append("%s:%s: %s: %s" % (path, m.group(2) or "0",
                                          m.group(3), m.group(4)))
        elif line.strip():
            out.append(line)
    return out


def in_toctree(path):
    """Whether an .rst file of path's directory lists it in a toctree."""
    d = os.path.dirname(path) or "."
    stem = os.path.splitext(os.path.basename(path))[0]
    for name in sorted(os.listdir(d)):
        if not name.endswith(".rst") or name == os.path.basename(path):
            continue
        del TOCTREE_ENTRIES[:]
        with open(os.path.join(d, name), encoding="utf-8") as f:
            publish_doctree(f.read(), source_path=os.path.join(d, name),
                            settings_overrides={"report_level": 5,
                                                "halt_level": 5})
        if stem in [os.path.splitext(e)[0] for e in TOCTREE_ENTRIES]:
            return True
    return False


def main(argv):
    files, new = [], []
    it = iter(argv)
    for a in it:
        if a == "--new":
            new.append(next(it))
        else:
            files.append(a)
    setup()
    bad = False
    for path in files + [n for n in new if n not in files]:
        for line in check(path):
            print(line)
            bad = True
    for path in new:
        if not in_toctree(path):
            print("%s:0: WARNING: document isn't included in any toctree"
                  % path)
            bad = True
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
