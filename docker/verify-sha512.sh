#!/usr/bin/env bash
# verify-sha512.sh FILE CHECKSUM-FILE: exit 0 when FILE's SHA-512 is the one CHECKSUM-FILE gives.
#
# Apache publishes `.sha512` files in two layouts: today's `shasum -a 512` output
# (`<hex>  spark-X-bin-hadoop3.tgz`), and the older gpg --print-md layout
# (`spark-X-bin-hadoop3.tgz: 1A2B 3C4D ...`, upper case, in groups, over several lines).
# Both are read; the digest is compared, whatever file name the checksum file gives.
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: verify-sha512.sh FILE CHECKSUM-FILE" >&2; exit 64; }
file=$1
sums=$2

text=$(tr -d '\r' <"$sums")
if [[ $text == *:* ]]; then
  # gpg --print-md: everything after the first colon, white space removed.
  expected=${text#*:}
else
  # shasum: the first field.
  expected=${text%%[[:space:]]*}
fi
expected=$(printf '%s' "$expected" | tr -d '[:space:]' | tr 'A-F' 'a-f')
if [[ ! $expected =~ ^[0-9a-f]{128}$ ]]; then
  echo "verify-sha512.sh: no SHA-512 digest found in $sums" >&2
  exit 1
fi
actual=$(sha512sum "$file")
actual=${actual%% *}
if [[ $actual != "$expected" ]]; then
  echo "verify-sha512.sh: $file: SHA-512 mismatch (expected $expected, got $actual)" >&2
  exit 1
fi
echo "verify-sha512.sh: $file: SHA-512 OK"
