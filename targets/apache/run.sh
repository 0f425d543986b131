#!/usr/bin/env bash
# Debian's Apache httpd (event MPM, mod_proxy_http) as a reverse proxy in front
# of a backend, for the /directAccess/ cases. Writes a config into a fresh
# temporary folder and runs httpd in the foreground; removes the folder when
# stopped.
#   targets/apache/run.sh PORT BACKEND_HOST BACKEND_PORT
# /ping and / answer {"message":"OK"} (a file); /directAccess/<path> goes to
# BACKEND/<path> with the query string by ProxyPass, every other setting
# Apache's default. As root, httpd's children run as nobody (httpd refuses to
# serve as root), so the folder is readable by all.
set -euo pipefail
port="$1" backend_host="$2" backend_port="$3"
httpd_bin="$(command -v apache2 || echo /usr/sbin/apache2)"
modules=/usr/lib/apache2/modules
dir="$(mktemp -d /tmp/streamcheck-apache-XXXXXX)"
chmod 755 "$dir"
mkdir "$dir/www"
printf '{"message":"OK"}' >"$dir/www/ping.json"
user_lines=""
if [[ "$(id -u)" -eq 0 ]]; then user_lines=$'User nobody\nGroup nogroup'; fi
cat >"$dir/httpd.conf" <<CONF
ServerRoot "$dir"
ServerName 127.0.0.1
$user_lines
LoadModule mpm_event_module $modules/mod_mpm_event.so
LoadModule authz_core_module $modules/mod_authz_core.so
LoadModule mime_module $modules/mod_mime.so
LoadModule alias_module $modules/mod_alias.so
LoadModule proxy_module $modules/mod_proxy.so
LoadModule proxy_http_module $modules/mod_proxy_http.so
Listen 127.0.0.1:$port
PidFile "$dir/httpd.pid"
DefaultRuntimeDir "$dir"
Mutex file:$dir default
ErrorLog /dev/stderr
LogLevel warn
TypesConfig /dev/null
AddType application/json .json
DocumentRoot "$dir/www"
<Directory />
  Require all granted
</Directory>
AliasMatch "^/(ping)?$" "$dir/www/ping.json"
# Between two reads: the backend's 5 s pause mid-body must survive.
ProxyTimeout 10
ProxyPass "/directAccess/" "http://$backend_host:$backend_port/" connectiontimeout=5
CONF
"$httpd_bin" -f "$dir/httpd.conf" -DFOREGROUND &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$dir"; }
trap 'cleanup; exit 0' TERM INT
wait "$pid" || { status=$?; rm -rf "$dir"; exit "$status"; }
rm -rf "$dir"
