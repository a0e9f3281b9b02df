#!/bin/sh
# The image's entrypoint (run by tini). On the first start of `serve` with an empty repository
# folder and no remote, it creates the repository from the template (`configserver init`, one
# commit with the example configs and CI check), as a new user of the CLI would; then it execs the
# CLI, so the server itself is tini's child and receives SIGTERM.
# Options alone are taken as options of serve. CONFIGSERVER_INIT_TEMPLATE=false starts from an empty repository instead (serve creates it).
set -eu

# Options alone (`podman run IMAGE --log-level debug`) are options of serve.
case "${1:-}" in -*) set -- serve "$@" ;; esac

if [ "${1:-}" = "serve" ] && [ "${CONFIGSERVER_INIT_TEMPLATE:-true}" = "true" ]; then
  repo=${CONFIGSERVER_REPO:-}
  remote=${CONFIGSERVER_REMOTE:-}
  config=${CONFIGSERVER_CONFIG:-}
  # Flags win over the environment, as in the CLI.
  prev=
  for arg in "$@"; do
    case "$prev" in
      --repo) repo=$arg ;;
      --remote) remote=$arg ;;
      --config) config=$arg ;;
    esac
    case "$arg" in
      --repo=*) repo=${arg#--repo=} ;;
      --remote=*) remote=${arg#--remote=} ;;
      --config=*) config=${arg#--config=} ;;
    esac
    prev=$arg
  done
  # A remote named in the settings file: the server clones it, so no template.
  if [ -z "$remote" ] && [ -n "$config" ] && [ -r "$config" ] && grep -Eq '^[[:space:]]*remote[[:space:]]*:' "$config"; then
    remote=settings-file
  fi
  if [ -z "$remote" ] && [ -n "$repo" ] && { [ ! -e "$repo" ] || { [ -d "$repo" ] && [ -z "$(ls -A "$repo")" ]; }; }; then
    echo "configserver-entrypoint: $repo is empty: creating the config repository from the template" >&2
    configserver init "$repo" >&2
  fi
fi

exec configserver "$@"
