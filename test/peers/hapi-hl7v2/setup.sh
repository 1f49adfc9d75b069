#!/usr/bin/env bash
# Sets up the HAPI HL7v2 conformance peer (idempotent):
#   1. fetches the jars listed in pom.xml into lib/ (skipped when they are already there),
#   2. compiles Peer.java into lib/classes (skipped when Peer.class is newer than Peer.java).
# Needs java/javac 11+ and mvn on PATH, and Maven Central (or a warm ~/.m2) for step 1.
# Usage: test/peers/hapi-hl7v2/setup.sh [--force]
# The steps are in ../maven-peer-setup.sh, shared with the HAPI FHIR validator peer.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peer=hapi-hl7v2
main_class=Peer
jdk=11
jars=(hapi-base-2.6.0.jar hapi-structures-v251-2.6.0.jar slf4j-api-1.7.36.jar slf4j-simple-1.7.36.jar)

# shellcheck source=../maven-peer-setup.sh
source "$here/../maven-peer-setup.sh"
maven_peer_setup "$@"
