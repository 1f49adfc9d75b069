#!/usr/bin/env bash
# Sets up the HAPI FHIR validator conformance peer (idempotent):
#   1. fetches the jars listed in pom.xml into lib/ (skipped when they are already there),
#   2. compiles Validator.java into lib/classes (skipped when Validator.class is newer than Validator.java).
# Needs java/javac 17+ and mvn on PATH, and Maven Central (or a warm ~/.m2) for step 1.
# Usage: test/peers/hapi-fhir-validator/setup.sh [--force]
# The steps are in ../maven-peer-setup.sh, shared with the HAPI HL7v2 peer.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peer=hapi-fhir-validator
main_class=Validator
jdk=17
jars=(
  hapi-fhir-structures-r4-8.8.1.jar
  hapi-fhir-validation-8.8.1.jar
  hapi-fhir-validation-resources-r4-8.8.1.jar
  hapi-fhir-caching-caffeine-8.8.1.jar
  slf4j-api-2.0.16.jar
  slf4j-simple-2.0.16.jar
)
fetch_note=" (about 145 MB)"
strict_args=1

check_java() {
  local java_major
  java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
  if [[ -z "$java_major" || "${java_major%%.*}" -lt 17 ]]; then
    fail "HAPI FHIR 8 needs Java 17+, 'java' on PATH is ${java_major:-unknown}"
  fi
}

# shellcheck source=../maven-peer-setup.sh
source "$here/../maven-peer-setup.sh"
maven_peer_setup "$@"
