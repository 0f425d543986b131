#!/usr/bin/env bash
# Debian's HAProxy as a streaming reverse proxy in front of a backend, for the
# /directAccess/ cases (it has no chat relay). Writes a config into a fresh
# temporary folder and runs haproxy in the foreground as the current user;
# removes the folder when stopped.
#   targets/haproxy/run.sh PORT BACKEND_HOST BACKEND_PORT
# /ping and / answer {"message":"OK"}; /directAccess/<path> goes to
# BACKEND/<path> with the query string. HAProxy streams in both directions by
# default (no request buffering unless asked).
set -euo pipefail
port="$1" backend_host="$2" backend_port="$3"
haproxy_bin="$(command -v haproxy || echo /usr/sbin/haproxy)"
dir="$(mktemp -d /tmp/streamcheck-haproxy-XXXXXX)"
cat >"$dir/haproxy.cfg" <<CONF
global
  # Each connection takes two descriptors; stay within the usual 20000.
  maxconn 9000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  # Between two reads: the backend's 5 s pause mid-body must survive.
  timeout server 10s
frontend streamcheck
  bind 127.0.0.1:$port
  http-request return status 200 content-type application/json string '{"message":"OK"}' if { path /ping } || { path / }
  use_backend backend if { path_beg /directAccess/ }
  default_backend notfound
backend notfound
  http-request return status 404 content-type application/json string '{"error":{"message":"no such path"}}'
backend backend
  http-request replace-path ^/directAccess(/.*)\$ \1
  server backend $backend_host:$backend_port
CONF
"$haproxy_bin" -db -f "$dir/haproxy.cfg" &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap 'cleanup; exit 0' TERM INT
wait "$pid" || { status=$?; rm -rf "$dir"; exit "$status"; }
rm -rf "$dir"
