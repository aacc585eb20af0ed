#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fails the build when a file includes across a layer, or two modules include each other.

The folders are the layers (docs/architecture.md). Every quoted include is a path from
the project root ("shm/frame.h", "daemon/rpc/rpc.h"; generated code under gen/), so the
folder of what a file includes is written in the include itself. The rules go by
folder: a file added to a layer's folder is checked the day it is added.

Modules are a .c and its .h (daemon/rpc/rpc.c and daemon/rpc/rpc.h are one). No chain
of includes between modules may come back to where it started: a module that needs
to be told something by another takes a callback, it does not include its caller.

Usage: check-layering.py SOURCE_DIR. Prints every violation and exits 1, or exits 0.
"""

import os
import re
import sys

# Each layer: the folder it owns, the folders it may include from (its own always),
# and the system or third-party headers it may include (by prefix; libc is free).
# The most specific folder wins: daemon/rpc before daemon.
LAYERS = {
    "include/ksalloc": {"uses": [], "libs": []},
    "common": {"uses": [], "libs": []},
    "shm": {"uses": ["common"], "libs": []},
    "proto": {"uses": ["common", "shm", "include/ksalloc/winerror.h"],
              "libs": ["protobuf-c/"]},
    "daemon/util": {"uses": ["common"], "libs": []},
    "daemon/storage": {"uses": ["common", "shm", "daemon/util"], "libs": []},
    "daemon/rpc": {"uses": ["common", "shm", "proto", "daemon/util", "daemon/storage"],
                   "libs": ["protobuf-c/"]},
    "daemon/transport": {"uses": ["common", "shm", "proto", "daemon/util", "daemon/storage",
                                  "daemon/rpc"],
                         "libs": ["protobuf-c/", "uv.h"]},
    "daemon": {"uses": ["common", "shm", "proto", "daemon"],
               "libs": ["protobuf-c/", "uv.h", "systemd/", "ini.h"]},
    "client/ks": {"uses": ["common", "include/ksalloc", "proto/hresult.h"], "libs": []},
    "client": {"uses": ["common", "shm", "proto", "include/ksalloc"],
               "libs": ["protobuf-c/"]},
    "tools": {"uses": ["common", "include/ksalloc"], "libs": ["json-c/"]},
    "examples": {"uses": ["include/ksalloc"], "libs": []},
    # The GStreamer plugin: a client of the public API, as any application is.
    "gst": {"uses": ["include/ksalloc"], "libs": ["gst/"]},
}

# Third-party headers: only the layers that list them may include them. Anything else
# in angle brackets is libc, the kernel's uapi, or the public <ksalloc/...> headers.
THIRD_PARTY = ["protobuf-c/", "uv.h", "systemd/", "ini.h", "json-c/", "check.h", "gst/"]
# sys/socket.h: storage and rpc make no socket calls (transport and proto/wire.c do).
NO_SOCKETS = ["daemon/storage", "daemon/rpc"]

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
GENERATED = {"proto/ksalloc.pb-c.h"}


def layer_of(path):
    best = None
    for layer in LAYERS:
        if path == layer or path.startswith(layer + "/"):
            if best is None or len(layer) > len(best):
                best = layer
    return best


def within(path, folder):
    return path == folder or path.startswith(folder + "/")


def module_of(path):
    return os.path.splitext(path)[0]


def main():
    root = sys.argv[1]
    errors = []
    edges = {}
    for layer in LAYERS:
        for dirpath, _, names in os.walk(os.path.join(root, layer)):
            for name in sorted(names):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                if layer_of(path) != layer:
                    continue  # a deeper layer's file: checked under its own rules
                check_file(root, path, layer, errors, edges)
    check_cycles(edges, errors)
    if errors:
        print("layering violations (cmake/check-layering.py, docs/architecture.md):")
        for e in errors:
            print("  " + e)
        return 1
    return 0


def check_file(root, path, layer, errors, edges):
    rules = LAYERS[layer]
    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            kind, target = m.groups()
            where = "%s:%d: #include %s%s%s" % (path, lineno, kind, target,
                                                '"' if kind == '"' else ">")
            if kind == "<":
                check_system(layer, rules, target, where, errors)
                continue
            if target not in GENERATED and not os.path.isfile(os.path.join(root, target)):
                errors.append("%s: not a path from the project root (write the layer's "
                              "folder: \"shm/frame.h\", \"daemon/rpc/rpc.h\")" % where)
                continue
            if not within(target, layer) and not any(within(target, u) for u in rules["uses"]):
                errors.append("%s: %s may not use %s (it may use: %s)"
                              % (where, layer, layer_of(target) or os.path.dirname(target),
                                 ", ".join([layer] + rules["uses"])))
            if module_of(target) != module_of(path):
                edges.setdefault(module_of(path), set()).add(module_of(target))


def check_system(layer, rules, target, where, errors):
    if target.startswith("ksalloc/"):
        public = "include/" + target
        if not within(public, layer) and not any(within(public, u) for u in rules["uses"]):
            errors.append("%s: %s may not use the public header %s" % (where, layer, target))
        return
    for lib in THIRD_PARTY:
        if target.startswith(lib) and not any(target.startswith(l) for l in rules["libs"]):
            errors.append("%s: %s may not use %s (only: %s)"
                          % (where, layer, lib, ", ".join(rules["libs"]) or "libc"))
    if target == "sys/socket.h" and layer in NO_SOCKETS:
        errors.append("%s: %s makes no socket calls" % (where, layer))


def check_cycles(edges, errors):
    """Depth-first search; reports each cycle once, as the chain of modules."""
    state = {}  # module -> 1 on the stack, 2 done
    stack = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                errors.append("include cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


if __name__ == "__main__":
    sys.exit(main())
