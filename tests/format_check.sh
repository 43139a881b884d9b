#!/usr/bin/env bash
# Every C++ file is formatted with the committed .clang-format: fails and names the files that
# clang-format would change (fix with `clang-format -i <file>`).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
command -v clang-format >/dev/null || { echo "format_check: clang-format is not installed" >&2; exit 1; }
mapfile -t files < <(find core app ui tests -name '*.cpp' -o -name '*.h' | sort)
((${#files[@]} > 100)) || { echo "format_check: found only ${#files[@]} files under $ROOT" >&2; exit 1; }
bad=()
for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
    printf 'format_check: not clang-formatted: %s\n' "${bad[@]}" >&2
    exit 1
fi
echo "format_check: ${#files[@]} files formatted"
