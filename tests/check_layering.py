#!/usr/bin/env python3
"""Checks the module arrows of ARCHITECTURE.md against the #include lines under src/.

A module may include its own headers and those of the modules it is allowed to use, directly or
through the modules those use (the arrows are transitive). Anything else fails the test, naming
the file, the line and the arrow that does not exist.

The test-support library (tests/support, included as "support/...") is test-only: under src/ only
*_test.cc files may include it, and its own headers may use only the modules in TEST_SUPPORT.

Usage: check_layering.py SRC_DIR [SUPPORT_DIR]
"""
import os
import re
import sys

ALLOWED = {
    "base": [],
    "ref": ["base"],
    "platform": ["base"],
    "image": ["base", "platform"],
    "content": ["image"],
    "registry": ["ref", "image"],
    "layer": ["image"],
    "elf": ["base", "platform"],
    "inspect": ["layer", "elf", "image"],
    "emulation": ["platform", "elf"],
    "isolation": ["base"],
    "dockerfile": ["ref", "platform"],
    "transport": ["content", "registry"],
    "rootfs": ["layer", "image"],
    "build": ["dockerfile", "image", "content", "registry", "layer", "isolation", "emulation",
              "transport", "rootfs"],
    "ops": ["build", "transport", "rootfs", "inspect", "ref", "platform", "image", "content", "registry", "layer",
            "elf", "emulation", "isolation", "dockerfile"],
    "cli": ["ops"],
}

# What tests/support may use (transitively), and the include prefix it is known by.
TEST_SUPPORT = ["registry", "content"]
SUPPORT_PREFIX = "support"


def closure(module):
    seen = set()
    stack = [module]
    while stack:
        m = stack.pop()
        if m in seen:
            continue
        seen.add(m)
        stack.extend(ALLOWED[m])
    return seen


def includes(full):
    """Yields (line number, included module) for each #include "module/..." of a file."""
    include_re = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
    with open(full, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = include_re.match(line)
            if m:
                yield lineno, m.group(1)


def check_support(support, bad):
    """The support headers may use TEST_SUPPORT's modules and each other; returns the count."""
    ok = set().union(*(closure(m) for m in TEST_SUPPORT)) | {SUPPORT_PREFIX}
    checked = 0
    for root, _, files in os.walk(support):
        for name in files:
            if not name.endswith((".h", ".cc")):
                continue
            full = os.path.join(root, name)
            for lineno, target in includes(full):
                checked += 1
                if target not in ok:
                    rel = os.path.relpath(full, os.path.dirname(support))
                    bad.append(f"{rel}:{lineno}: test support may not include {target}/")
    return checked


def main():
    src = sys.argv[1]
    bad = []
    checked = 0
    if len(sys.argv) > 2:
        checked += check_support(sys.argv[2], bad)
    for module in os.listdir(src):
        path = os.path.join(src, module)
        if not os.path.isdir(path):
            continue
        if module not in ALLOWED:
            bad.append(f"{module}/: a module that ARCHITECTURE.md does not name")
            continue
        ok = closure(module)
        for root, _, files in os.walk(path):
            for name in files:
                if not name.endswith((".h", ".cc")):
                    continue
                # Tests may use test helpers of other modules only through the same arrows.
                full = os.path.join(root, name)
                is_test = name.endswith("_test.cc")
                for lineno, target in includes(full):
                    checked += 1
                    rel = os.path.relpath(full, src)
                    if target == SUPPORT_PREFIX:
                        if not is_test:
                            bad.append(f"{rel}:{lineno}: only *_test.cc files may include "
                                       f"{SUPPORT_PREFIX}/ (test-only)")
                        continue
                    if target not in ALLOWED:
                        continue
                    if target not in ok:
                        bad.append(f"{rel}:{lineno}: {module} may not include {target}/")
    for b in bad:
        print("layering:", b)
    print(f"layering: {checked} includes checked, {len(bad)} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
