#!/usr/bin/env bash
# Debian's nginx as a streaming reverse proxy in front of a backend: the anchor
# the reference server is compared with. Writes a config into a fresh temporary
# folder and runs nginx in the foreground as the current user; removes the
# folder when stopped.
#   targets/nginx/run.sh PORT BACKEND_HOST BACKEND_PORT [buffered]
# /ping and / answer {"message":"OK"}; /directAccess/<path> goes to
# BACKEND/<path> with the query string; /v1/chat/completions and
# /chat/completions go to BACKEND/v1/chat/completions. Buffering is off both
# ways (proxy_buffering, proxy_request_buffering), as for a streaming server;
# with `buffered`, nginx's defaults stand: both on, a response held in memory
# buffers and then a temp file of up to 1024m (proxy_max_temp_file_size), a
# request body read whole (to memory or a temp file) before it is sent on.
set -euo pipefail
port="$1" backend_host="$2" backend_port="$3" mode="${4:-streaming}"
buffering="proxy_buffering off; proxy_request_buffering off;"
case "$mode" in
  streaming) ;;
  buffered) buffering="# nginx's defaults: proxy_buffering on, proxy_request_buffering on" ;;
  *) echo "nginx/run.sh: mode is streaming or buffered, not $mode" >&2; exit 2 ;;
esac
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
dir="$(mktemp -d /tmp/streamcheck-nginx-XXXXXX)"
user_line=""
# As root, nginx's workers would switch to nobody, who cannot read $dir.
if [[ "$(id -u)" -eq 0 ]]; then user_line="user root;"; fi
cat >"$dir/nginx.conf" <<CONF
$user_line
worker_processes 2;
error_log stderr warn;
pid $dir/nginx.pid;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  upstream backend { server $backend_host:$backend_port; }
  server {
    listen 127.0.0.1:$port;
    client_max_body_size 0;
    location = /ping { default_type application/json; return 200 '{"message":"OK"}'; }
    location = / { default_type application/json; return 200 '{"message":"OK"}'; }
    location /directAccess/ {
      proxy_pass http://backend/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      $buffering
      proxy_connect_timeout 5s;
      # Between two reads: the backend's 5 s pause mid-body must survive.
      proxy_read_timeout 10s;
    }
    location = /v1/chat/completions {
      proxy_pass http://backend/v1/chat/completions;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      $buffering
      proxy_read_timeout 10s;
    }
    location = /chat/completions {
      proxy_pass http://backend/v1/chat/completions;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      $buffering
      proxy_read_timeout 10s;
    }
  }
}
CONF
"$nginx_bin" -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap 'cleanup; exit 0' TERM INT
wait "$pid" || { status=$?; rm -rf "$dir"; exit "$status"; }
rm -rf "$dir"
