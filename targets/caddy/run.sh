#!/usr/bin/env bash
# Debian's Caddy as a reverse proxy in front of a backend, for the
# /directAccess/ cases. Writes a Caddyfile into a fresh temporary folder (its
# data and config folders there too, so nothing lands in $HOME) and runs caddy
# in the foreground; removes the folder when stopped.
#   targets/caddy/run.sh PORT BACKEND_HOST BACKEND_PORT
# /ping and / answer {"message":"OK"}; /directAccess/<path> goes to
# BACKEND/<path> with the query string. reverse_proxy as it comes: it streams
# both ways (no request_buffers, no response_buffers). The transport's
# response_header_timeout and read_timeout bound a silent backend, as the other
# anchors' 10 s timeouts do.
set -euo pipefail
port="$1" backend_host="$2" backend_port="$3"
caddy_bin="$(command -v caddy || echo /usr/bin/caddy)"
dir="$(mktemp -d /tmp/streamcheck-caddy-XXXXXX)"
export XDG_DATA_HOME="$dir/data" XDG_CONFIG_HOME="$dir/config" HOME="$dir"
cat >"$dir/Caddyfile" <<CONF
{
  admin off
  auto_https off
  log {
    output stderr
    level WARN
  }
}
http://127.0.0.1:$port {
  handle_path /directAccess/* {
    reverse_proxy $backend_host:$backend_port {
      transport http {
        dial_timeout 5s
        response_header_timeout 10s
        read_timeout 10s
      }
    }
  }
  handle /ping {
    header Content-Type application/json
    respond \`{"message":"OK"}\` 200
  }
  handle / {
    header Content-Type application/json
    respond \`{"message":"OK"}\` 200
  }
  handle {
    header Content-Type application/json
    respond \`{"error":{"message":"no such path"}}\` 404
  }
}
CONF
"$caddy_bin" run --adapter caddyfile --config "$dir/Caddyfile" &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap 'cleanup; exit 0' TERM INT
wait "$pid" || { status=$?; rm -rf "$dir"; exit "$status"; }
rm -rf "$dir"
