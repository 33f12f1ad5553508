#!/usr/bin/env bash
# Checks the locking annotations (GUARDED_BY, REQUIRES, … in
# src/common/mutex.h) with clang's thread safety analysis: every source file
# that uses them, and every file including a header that does, is compiled
# with clang++ -fsyntax-only -Werror=thread-safety, with the flags of a
# CMake build directory's compile_commands.json.
# Usage: scripts/check-thread-safety.sh [build-dir]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
[[ -f "$dir/compile_commands.json" ]] || { echo "no $dir/compile_commands.json: build first" >&2; exit 2; }
command -v clang++ >/dev/null || scripts/install-deps.sh --with-fuzz >/dev/null
python3 - "$dir/compile_commands.json" <<'PY'
import json, os, re, shlex, subprocess, sys
from concurrent.futures import ThreadPoolExecutor

root = os.getcwd()
entries = json.load(open(sys.argv[1]))
annotated = re.compile(r'GUARDED_BY|REQUIRES\(|EXCLUDES\(|"common/mutex\.h"')
# Files that use the annotations, and the headers that do (whose includers
# are then checked too).
users, headers = set(), set()
for base, _, names in os.walk('src'):
    for n in names:
        path = os.path.join(base, n)
        if n.endswith(('.cpp', '.h')) and annotated.search(open(path, errors='replace').read()):
            (headers if n.endswith('.h') else users).add(path)
header_names = {h[len('src/'):] for h in headers}
def includes_annotated(path):
    text = open(path, errors='replace').read()
    return any(f'"{h}"' in text for h in header_names)

# A unity build (CMAKE_UNITY_BUILD, as in CI) compiles generated files that
# #include the sources: each included source is checked on its own with the
# unity file's flags.
unity_include = re.compile(r'^#include "([^"]+)"', re.M)
expanded = []
for e in entries:
    if '/Unity/unity_' in e['file']:
        for inc in unity_include.findall(open(e['file'], errors='replace').read()):
            expanded.append(dict(e, file=inc, unity=e['file']))
    else:
        expanded.append(e)

jobs, seen = [], set()
for e in expanded:
    src = os.path.relpath(e['file'], root)
    if src in seen or not src.startswith('src/') or not (src in users or includes_annotated(src)):
        continue
    seen.add(src)
    args = e['arguments'] if 'arguments' in e else shlex.split(e['command'])
    out, skip = ['clang++'], False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ('-o', '-MF', '-MT', '-MQ'):
            skip = True
            continue
        if a in ('-c', '-MD', '-MMD') or a.startswith('-fsanitize') or a in (e['file'], e.get('unity')):
            continue
        out.append(a)
    out += ['-fsyntax-only', '-Wno-unknown-warning-option', '-Wthread-safety',
            '-Werror=thread-safety', e['file']]
    jobs.append((src, out, e.get('directory', root)))

def run(job):
    src, cmd, cwd = job
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return src, r.returncode, r.stderr

failed = 0
with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
    for src, rc, err in pool.map(run, jobs):
        if rc != 0:
            failed += 1
            print(f'== {src}\n{err}')
print(f'thread safety analysis: {len(jobs)} files, {failed} failed')
sys.exit(1 if failed else 0)
PY
