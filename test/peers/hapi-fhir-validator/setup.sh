#!/usr/bin/env bash
# Sets up the HAPI FHIR validator conformance peer (idempotent):
#   1. fetches the jars listed in pom.xml into lib/ (skipped when they are already there),
#   2. compiles Validator.java into lib/classes (skipped when Validator.class is newer than Validator.java).
# Needs java/javac 17+ and mvn on PATH, and Maven Central (or a warm ~/.m2) for step 1.
# Usage: test/peers/hapi-fhir-validator/setup.sh [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lib="$here/lib"
classes="$lib/classes"
jars=(
  hapi-fhir-structures-r4-8.8.1.jar
  hapi-fhir-validation-8.8.1.jar
  hapi-fhir-validation-resources-r4-8.8.1.jar
  hapi-fhir-caching-caffeine-8.8.1.jar
  slf4j-api-2.0.16.jar
  slf4j-simple-2.0.16.jar
)

fail() {
  echo "hapi-fhir-validator setup: $*" >&2
  exit 1
}

if [[ "${1:-}" == "--force" ]]; then
  rm -rf "$lib"
elif [[ -n "${1:-}" ]]; then
  fail "unknown argument '$1' (usage: setup.sh [--force])"
fi

for tool in java javac mvn; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' not found on PATH (need a JDK 17+ and Maven 3)"
done

java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
if [[ -z "$java_major" || "${java_major%%.*}" -lt 17 ]]; then
  fail "HAPI FHIR 8 needs Java 17+, 'java' on PATH is ${java_major:-unknown}"
fi

have_jars() {
  local j
  for j in "${jars[@]}"; do
    [[ -f "$lib/$j" ]] || return 1
  done
}

if have_jars; then
  echo "hapi-fhir-validator setup: jars already in $lib" >&2
else
  echo "hapi-fhir-validator setup: fetching jars with Maven into $lib (about 145 MB) ..." >&2
  # -DoutputDirectory is absolute so the result does not depend on the caller's working directory.
  if ! mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" >&2; then
    fail "'mvn dependency:copy-dependencies' failed (is Maven Central reachable, or ~/.m2 populated?)"
  fi
  have_jars || fail "Maven finished but the expected jars are missing from $lib: ${jars[*]}"
fi

if [[ -f "$classes/Validator.class" && "$classes/Validator.class" -nt "$here/Validator.java" ]]; then
  echo "hapi-fhir-validator setup: $classes/Validator.class is up to date" >&2
else
  echo "hapi-fhir-validator setup: compiling Validator.java into $classes ..." >&2
  rm -rf "$classes"
  mkdir -p "$classes"
  if ! javac -nowarn -encoding UTF-8 -cp "$lib/*" -d "$classes" "$here/Validator.java" >&2; then
    rm -rf "$classes"
    fail "javac failed on $here/Validator.java"
  fi
fi

echo "hapi-fhir-validator setup: ready" >&2
