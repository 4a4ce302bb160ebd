#!/usr/bin/env python3
"""Checks the module arrows of ARCHITECTURE.md against the #include lines under src/.

A module may include its own headers and those of the modules it is allowed to use, directly or
through the modules those use (the arrows are transitive). Anything else fails the test, naming
the file, the line and the arrow that does not exist.
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
    "emulation": ["platform", "elf"],
    "isolation": ["base"],
    "dockerfile": ["ref", "platform"],
    "transport": ["content", "registry"],
    "rootfs": ["layer", "image"],
    "build": ["dockerfile", "image", "content", "registry", "layer", "isolation", "emulation",
              "transport", "rootfs"],
    "ops": ["build", "transport", "rootfs", "ref", "platform", "image", "content", "registry", "layer",
            "elf", "emulation", "isolation", "dockerfile"],
    "cli": ["ops"],
}


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


def main():
    src = sys.argv[1]
    include_re = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
    bad = []
    checked = 0
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
                with open(full, encoding="utf-8") as f:
                    for lineno, line in enumerate(f, 1):
                        m = include_re.match(line)
                        if not m:
                            continue
                        checked += 1
                        target = m.group(1)
                        if target not in ALLOWED:
                            continue
                        if target not in ok:
                            rel = os.path.relpath(full, src)
                            bad.append(f"{rel}:{lineno}: {module} may not include {target}/")
    for b in bad:
        print("layering:", b)
    print(f"layering: {checked} includes checked, {len(bad)} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
