# Shared steps of the Java conformance peers' setup.sh (hapi-hl7v2/, hapi-fhir-validator/); sourced, not run.
#   1. fetches the jars listed in the peer's pom.xml into lib/ (skipped when they are already there),
#   2. compiles <main_class>.java into lib/classes (skipped when the class is newer than the source).
#
# The setup.sh that sources this file sets, before sourcing it:
#   here          the peer's folder (pom.xml, <main_class>.java; lib/ is created there)
#   peer          the name messages start with ("<peer> setup: ...")
#   main_class    the class to compile, e.g. Peer
#   jdk           the JDK major version named when java, javac or mvn is missing
#   jars          (array) jars Maven must have put into lib/; setup fetches again when one is missing
# and may set:
#   fetch_note    text after "into <lib>" in the fetch message, e.g. " (about 145 MB)"
#   strict_args   1: an argument other than --force is an error (exit 1); otherwise it is ignored
# and define:
#   check_java    a function run after the tools are found, before the jars are fetched
# then calls: maven_peer_setup "$@"
#
# Everything is reported on stderr; any failure exits 1 with a "<peer> setup: ..." message.

lib="$here/lib"
classes="$lib/classes"

fail() {
  echo "$peer setup: $*" >&2
  exit 1
}

have_jars() {
  local j
  for j in "${jars[@]}"; do
    [[ -f "$lib/$j" ]] || return 1
  done
}

maven_peer_setup() {
  if [[ "${1:-}" == "--force" ]]; then
    rm -rf "$lib"
  elif [[ -n "${1:-}" && "${strict_args:-}" == 1 ]]; then
    fail "unknown argument '$1' (usage: setup.sh [--force])"
  fi

  local tool
  for tool in java javac mvn; do
    command -v "$tool" >/dev/null 2>&1 || fail "'$tool' not found on PATH (need a JDK $jdk+ and Maven 3)"
  done

  if declare -F check_java >/dev/null; then
    check_java
  fi

  if have_jars; then
    echo "$peer setup: jars already in $lib" >&2
  else
    echo "$peer setup: fetching jars with Maven into $lib${fetch_note:-} ..." >&2
    # -DoutputDirectory is absolute so the result does not depend on the caller's working directory.
    if ! mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" >&2; then
      fail "'mvn dependency:copy-dependencies' failed (is Maven Central reachable, or ~/.m2 populated?)"
    fi
    have_jars || fail "Maven finished but the expected jars are missing from $lib: ${jars[*]}"
  fi

  if [[ -f "$classes/$main_class.class" && "$classes/$main_class.class" -nt "$here/$main_class.java" ]]; then
    echo "$peer setup: $classes/$main_class.class is up to date" >&2
  else
    echo "$peer setup: compiling $main_class.java into $classes ..." >&2
    rm -rf "$classes"
    mkdir -p "$classes"
    if ! javac -nowarn -encoding UTF-8 -cp "$lib/*" -d "$classes" "$here/$main_class.java" >&2; then
      rm -rf "$classes"
      fail "javac failed on $here/$main_class.java"
    fi
  fi

  echo "$peer setup: ready" >&2
}
