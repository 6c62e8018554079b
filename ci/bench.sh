#!/usr/bin/env bash
# Benchmark: forkproof serve in its three modes against Apache 2.4 (mpm_prefork), nginx (one
# worker) and busybox httpd (fork per connection), side by side on loopback with wrk at 16
# connections, Connection: close and keep-alive. Prints one table with ratios, then the fork
# mode's spawn limit (cores / CPU cost of one child start) and how close fork mode gets to it.
# Usage: ci/bench.sh [seconds per run, default 5]. Installs wrk, apache2, nginx, busybox if
# missing (Debian/Ubuntu, needs root). Nothing it starts outlives it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin"
DUR=${1:-5}
CONNS=16

need=()
command -v wrk >/dev/null || need+=(wrk)
[ -x /usr/sbin/apache2 ] || need+=(apache2)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v busybox >/dev/null || need+=(busybox)
command -v perf >/dev/null || command -v hyperfine >/dev/null || need+=(hyperfine)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}" >&2
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

tmp=$(mktemp -d /tmp/forkproof-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	stop_apache "$tmp/apache" || true
	stop_apache "$tmp/apache-debian" || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# stop_apache DIR: stops the Apache whose pidfile is DIR/apache.pid and waits, up to 10s, until
# its main process is gone (it stops its children first), so the next server runs alone and
# the directory can be removed.
stop_apache() {
	local pid
	[ -f "$1/apache.pid" ] || return 0
	pid=$(cat "$1/apache.pid")
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	echo "apache (pid $pid) still runs 10s after SIGTERM" >&2
	return 1
}

# wait_idle PID: waits, up to 5s, until PID has no children left, so that the CPU time of every
# child it started is in its cutime/cstime.
wait_idle() {
	local kids
	for _ in $(seq 100); do
		if [ -e "/proc/$1/task/$1/children" ]; then
			kids=$(cat /proc/"$1"/task/*/children 2>/dev/null)
		else # a kernel without CONFIG_PROC_CHILDREN
			kids=$(pgrep -P "$1" || true)
		fi
		[ -z "${kids//[[:space:]]/}" ] && return 0
		sleep 0.05
	done
	echo "pid $1 still has children 5s after the run: $kids" >&2
}

# A static binary starts faster: no dynamic loader in every forked child (~0.35 ms CPU each
# here). Only package net pulls in cgo (its resolver); `go run`/`go build` with cgo on link
# the binary dynamically.
CGO_ENABLED=0 go build -o "$tmp/forkproof" ./cmd/forkproof

free_port() { # a port nothing listens on
	local p
	while :; do
		p=$((10000 + RANDOM % 20000)) # below the ephemeral range
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
wait_port() { # wait until 127.0.0.1:$1 accepts, up to 10s
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on port $1" >&2
	return 1
}

mkdir -p "$tmp/www"
printf 'Hello from forkproof bench.\n' >"$tmp/www/index.html"

start_apache() {
	local port=$1 d=$tmp/apache mods=/usr/lib/apache2/modules
	mkdir -p "$d"
	# Debian's stock prefork and keep-alive settings.
	cat >"$d/httpd.conf" <<CONF
ServerRoot $d
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $d/apache.pid
ErrorLog $d/error.log
LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dir_module $mods/mod_dir.so
StartServers 5
MinSpareServers 5
MaxSpareServers 10
MaxRequestWorkers 150
KeepAlive On
MaxKeepAliveRequests 100
KeepAliveTimeout 5
DocumentRoot $tmp/www
DirectoryIndex index.html
<Directory $tmp/www>
  Require all granted
</Directory>
CONF
	APACHE_RUN_DIR=$d apache2 -f "$d/httpd.conf" -k start || { cat "$d/error.log" >&2; return 1; }
	wait_port "$port"
}

# Debian's stock Apache configuration (/etc/apache2: its default modules, the access log
# written for every request, the default site), switched from mpm_event to mpm_prefork as
# `a2dismod mpm_event; a2enmod mpm_prefork` would, on a copy so the system's stays untouched.
start_apache_debian() {
	local port=$1 d=$tmp/apache-debian
	mkdir -p "$d/run" "$d/lock" "$d/log"
	cp -r /etc/apache2 "$d/etc"
	rm -f "$d/etc/mods-enabled"/mpm_*
	ln -s ../mods-available/mpm_prefork.load ../mods-available/mpm_prefork.conf "$d/etc/mods-enabled/"
	printf 'Listen 127.0.0.1:%s\n' "$port" >"$d/etc/ports.conf"
	echo "ServerName 127.0.0.1" >>"$d/etc/apache2.conf"
	cat >"$d/etc/sites-enabled/000-default.conf" <<CONF
<VirtualHost *:$port>
	ServerAdmin webmaster@localhost
	DocumentRoot $tmp/www
	<Directory $tmp/www>
		Require all granted
	</Directory>
	ErrorLog \${APACHE_LOG_DIR}/error.log
	CustomLog \${APACHE_LOG_DIR}/access.log combined
</VirtualHost>
CONF
	chmod a+rx "$tmp" "$tmp/www"
	chown www-data "$d/log" 2>/dev/null || true
	APACHE_CONFDIR=$d/etc APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data APACHE_PID_FILE=$d/apache.pid \
		APACHE_RUN_DIR=$d/run APACHE_LOCK_DIR=$d/lock APACHE_LOG_DIR=$d/log LANG=C \
		apache2 -d "$d/etc" -k start || { cat "$d/log/error.log" >&2; return 1; }
	wait_port "$port"
}

start_nginx() {
	local port=$1 d=$tmp/nginx
	mkdir -p "$d"
	cat >"$d/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $d; proxy_temp_path $d; fastcgi_temp_path $d; uwsgi_temp_path $d; scgi_temp_path $d;
  server { listen 127.0.0.1:$port; root $tmp/www; }
}
CONF
	nginx -c "$d/nginx.conf" -p "$d" 2>>"$d/error.log" &
	pids+=($!)
	wait_port "$port"
}

start_busybox() {
	busybox httpd -f -p "127.0.0.1:$1" -h "$tmp/www" &
	pids+=($!)
	wait_port "$1"
}

start_forkproof() { # mode; sets port
	local log=$tmp/serve-$1.log
	"$tmp/forkproof" serve -addr 127.0.0.1:0 -mode "$1" 2>"$log" &
	pids+=($!)
	for _ in $(seq 100); do
		port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$log")
		[ -n "$port" ] && return 0
		sleep 0.1
	done
	echo "forkproof -mode $1 did not start: $(cat "$log")" >&2
	return 1
}

rps() { # port [extra wrk args...]: requests per second
	local port=$1
	shift
	wrk -t2 -c$CONNS -d"${DUR}s" "$@" "http://127.0.0.1:$port/" 2>&1 | awk '/Requests\/sec/ {printf "%d", $2}'
}

# ticks PID: CPU clock ticks of PID and of its reaped children (utime stime cutime cstime).
ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }

declare -A CLOSE KEEP
conn_ms=0
bench() { # name port [pid: also measure the CPU per connection of the close run]
	local t0 n
	[ -n "${3:-}" ] && t0=$(ticks "$3")
	n=$(wrk -t2 -c$CONNS -d"${DUR}s" -H "Connection: close" "http://127.0.0.1:$2/" 2>&1 |
		awk '/requests in/ {n = $1} /Requests\/sec/ {r = $2} END {printf "%d %d", n, r}')
	CLOSE[$1]=${n#* }
	if [ -n "${3:-}" ]; then
		# CPU time is far less sensitive to other load than throughput; children that
		# still run are not counted yet, so wait until the tree is idle.
		wait_idle "$3"
		conn_ms=$(awk -v a="$t0" -v b="$(ticks "$3")" -v n="${n% *}" -v hz="$(getconf CLK_TCK)" \
			'BEGIN {printf "%.3f", n ? (b - a) / hz * 1000 / n : 0}')
	fi
	KEEP[$1]=$(rps "$2")
	echo "  $1: close ${CLOSE[$1]}/s, keep-alive ${KEEP[$1]}/s" >&2
}

echo "running wrk -c$CONNS for ${DUR}s per figure on $(nproc) cores..." >&2
p=$(free_port); start_apache "$p"; bench "apache-prefork" "$p"
stop_apache "$tmp/apache"
p=$(free_port); start_apache_debian "$p"; bench "apache-debian" "$p"
stop_apache "$tmp/apache-debian"
p=$(free_port); start_nginx "$p"; bench "nginx-1-worker" "$p"
p=$(free_port); start_busybox "$p"; bench "busybox-httpd" "$p"
for m in prefork fork goroutine; do
	start_forkproof "$m"
	if [ "$m" = fork ]; then bench "forkproof-$m" "$port" "${pids[-1]}"; else bench "forkproof-$m" "$port"; fi
done

# The spawn limit: what one child start costs in CPU, measured on the child itself (fd 3 is
# /dev/null: it starts, reads EOF, exits).
export FORKPROOF_CHILD=conn GOGC=off GOMEMLIMIT=64MiB GOMAXPROCS=1
export FORKPROOF_CHILD_CONF="8192;16384;100;8388608;10000000000;5000000000;10000000000;0;0;"
# Measured twice: alone on an idle machine, and with one stream of starts per core at once —
# the situation of fork mode under load, where starts contend for the kernel's memory
# management; the spawn limit uses the second.
if command -v perf >/dev/null && perf stat -x, -e task-clock true 2>/dev/null >/dev/null; then
	start_once() { perf stat -x, -r "$1" -e task-clock "$tmp/forkproof" 3</dev/null 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}'; }
else
	start_once() {
		hyperfine -N -r "$1" --export-json "$tmp/h.$BASHPID.json" "$tmp/forkproof" 3</dev/null >/dev/null 2>&1 &&
			awk -F: '/"user"|"system"/ {gsub(/[ ,]/,"",$2); s+=$2} END {print s*1000}' "$tmp/h.$BASHPID.json"
	}
fi
alone_ms=$(start_once 200)
starts=()
for i in $(seq "$(nproc)"); do
	start_once 200 >"$tmp/start.$i" &
	starts+=($!)
done
wait "${starts[@]}" # not a bare wait: the servers started above are children too
start_ms=$(cat "$tmp"/start.* | awk '{s += $1; n++} END {printf "%.3f", s / n}')
unset FORKPROOF_CHILD FORKPROOF_CHILD_CONF

ap_c=${CLOSE[apache-prefork]} ap_k=${KEEP[apache-prefork]}
ad_c=${CLOSE[apache-debian]} ad_k=${KEEP[apache-debian]}
printf '\n%-20s %12s %8s %12s %8s\n' server "close req/s" "/apache" "keep req/s" "/apache"
for s in apache-prefork apache-debian nginx-1-worker busybox-httpd forkproof-prefork forkproof-fork forkproof-goroutine; do
	awk -v s="$s" -v c="${CLOSE[$s]}" -v k="${KEEP[$s]}" -v ac="$ap_c" -v ak="$ap_k" \
		'BEGIN {printf "%-20s %12d %7.2fx %12d %7.2fx\n", s, c, (ac ? c/ac : 0), k, (ak ? k/ak : 0)}'
done
awk -v ms="$start_ms" -v alone="$alone_ms" -v cms="$conn_ms" -v cores="$(nproc)" -v fc="${CLOSE[forkproof-fork]}" -v fk="${KEEP[forkproof-fork]}" \
	-v pc="${CLOSE[forkproof-prefork]}" -v pk="${KEEP[forkproof-prefork]}" -v ac="$ap_c" -v ak="$ap_k" -v dc="$ad_c" -v dk="$ad_k" 'BEGIN {
	limit = cores / (ms / 1000)
	printf "\nchild start: %.2f ms CPU alone, %.2f ms with every core starting children; spawn limit %d cores / %.2f ms = %d/s\n", alone, ms, cores, ms, limit
	printf "fork mode close:        %d/s = %.0f%% of the spawn limit (target >= 90%%)\n", fc, 100 * fc / limit
	if (cms > 0)
		printf "fork mode CPU:          %.2f ms per connection (parent + child) = %.0f%% of the spawn limit on CPU alone\n", cms, 100 * ms / cms
	printf "fork mode keep-alive:   %d/s = %.2fx of prefork mode (target >= 0.5x)\n", fk, fk / pk
	printf "prefork vs apache:      close %.2fx, keep-alive %.2fx (target >= 1.5x both; minimal config: 3 modules, no access log)\n", pc / ac, pk / ak
	if (dc > 0 && dk > 0)
		printf "prefork vs apache-debian: close %.2fx, keep-alive %.2fx (target >= 1.5x both; Debian stock config, mpm_prefork)\n", pc / dc, pk / dk
}'
