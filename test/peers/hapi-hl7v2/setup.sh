#!/usr/bin/env bash
# Sets up the HAPI HL7v2 conformance peer (idempotent):
#   1. fetches the jars listed in pom.xml into lib/ (skipped when they are already there),
#   2. compiles Peer.java into lib/classes (skipped when Peer.class is newer than Peer.java).
# Needs java/javac 11+ and mvn on PATH, and Maven Central (or a warm ~/.m2) for step 1.
# Usage: test/peers/hapi-hl7v2/setup.sh [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lib="$here/lib"
classes="$lib/classes"
jars=(hapi-base-2.6.0.jar hapi-structures-v251-2.6.0.jar slf4j-api-1.7.36.jar slf4j-simple-1.7.36.jar)

fail() {
  echo "hapi-hl7v2 setup: $*" >&2
  exit 1
}

if [[ "${1:-}" == "--force" ]]; then
  rm -rf "$lib"
fi

for tool in java javac mvn; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' not found on PATH (need a JDK 11+ and Maven 3)"
done

have_jars() {
  local j
  for j in "${jars[@]}"; do
    [[ -f "$lib/$j" ]] || return 1
  done
}

if have_jars; then
  echo "hapi-hl7v2 setup: jars already in $lib" >&2
else
  echo "hapi-hl7v2 setup: fetching jars with Maven into $lib ..." >&2
  # -DoutputDirectory is absolute so the result does not depend on the caller's working directory.
  if ! mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" >&2; then
    fail "'mvn dependency:copy-dependencies' failed (is Maven Central reachable, or ~/.m2 populated?)"
  fi
  have_jars || fail "Maven finished but the expected jars are missing from $lib: ${jars[*]}"
fi

if [[ -f "$classes/Peer.class" && "$classes/Peer.class" -nt "$here/Peer.java" ]]; then
  echo "hapi-hl7v2 setup: $classes/Peer.class is up to date" >&2
else
  echo "hapi-hl7v2 setup: compiling Peer.java into $classes ..." >&2
  rm -rf "$classes"
  mkdir -p "$classes"
  if ! javac -nowarn -encoding UTF-8 -cp "$lib/*" -d "$classes" "$here/Peer.java" >&2; then
    rm -rf "$classes"
    fail "javac failed on $here/Peer.java"
  fi
fi

echo "hapi-hl7v2 setup: ready" >&2
