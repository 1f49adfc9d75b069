#!/usr/bin/env bash
# Kafka broker peer setup (idempotent): fetches the broker's classpath (org.apache.kafka:kafka_2.13 and a Log4j 2
# backend, see pom.xml) into lib/ with Maven; skipped when the jars are already there.
# Needs java 17+ and mvn on PATH, and Maven Central (or a warm ~/.m2).
# Usage: test/peers/kafka/setup.sh [--force]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lib="$here/lib"
# Keep in step with pom.xml: setup fetches again when one of these is missing.
jars=(kafka_2.13-4.3.1.jar kafka-clients-4.3.1.jar kafka-server-4.3.1.jar log4j-core-2.24.3.jar log4j-slf4j-impl-2.24.3.jar)

fail() {
  echo "kafka setup: $*" >&2
  exit 1
}

if [[ "${1:-}" == "--force" ]]; then
  rm -rf "$lib"
elif [[ -n "${1:-}" ]]; then
  fail "unknown argument '$1' (usage: setup.sh [--force])"
fi

for tool in java mvn; do
  command -v "$tool" >/dev/null 2>&1 || fail "'$tool' not found on PATH (need a Java 17+ runtime and Maven 3)"
done

java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
if [[ -z "$java_major" || "${java_major%%.*}" -lt 17 ]]; then
  fail "the Kafka 4.x broker needs Java 17+, 'java' on PATH is ${java_major:-unknown}"
fi

have_jars() {
  local j
  for j in "${jars[@]}"; do
    [[ -f "$lib/$j" ]] || return 1
  done
}

if have_jars; then
  echo "kafka setup: jars already in $lib" >&2
else
  echo "kafka setup: fetching jars with Maven into $lib (about 45 MB) ..." >&2
  # A stale lib/ (older version) would put two brokers on the classpath.
  rm -rf "$lib"
  if ! mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" >&2; then
    fail "'mvn dependency:copy-dependencies' failed (is Maven Central reachable, or ~/.m2 populated?)"
  fi
  have_jars || fail "Maven finished but the expected jars are missing from $lib: ${jars[*]}"
fi
echo "kafka setup: ready" >&2
