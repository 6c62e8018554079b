#!/usr/bin/env bash
# serve.sh NAME PORT: runs one server of the interop matrix in the foreground on 127.0.0.1:PORT,
# for `forkproof check -target-cmd 'bash testdata/interop/serve.sh NAME {port}'`. The server
# replaces this shell (exec), so forkproof's PID is the server's root process.
# NAME: nginx apache lighttpd busybox mini_httpd python go node.
# Config files and the document root live in $INTEROP_DIR (default a directory per port
# under ${TMPDIR:-/tmp}); ci/interop.sh removes it afterwards.
set -euo pipefail
name=$1 port=$2
here=$(cd "$(dirname "$0")" && pwd)
dir=${INTEROP_DIR:-${TMPDIR:-/tmp}/forkproof-interop}/$name-$port
rm -rf "$dir"
mkdir -p "$dir/www" "$dir/logs"
chmod 755 "$dir" "$dir/www"
printf 'hello from forkproof interop\n' > "$dir/www/index.html"
chmod 644 "$dir/www/index.html"

case $name in
nginx)
	cat > "$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	types { text/html html; }
	server {
		listen 127.0.0.1:$port;
		root $dir/www;
	}
}
CONF
	exec nginx -c "$dir/nginx.conf" -p "$dir"
	;;
apache)
	mods=/usr/lib/apache2/modules
	cat > "$dir/apache2.conf" <<CONF
ServerRoot $dir
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $dir/apache2.pid
ErrorLog /dev/stderr
LogLevel warn
LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dir_module $mods/mod_dir.so
LoadModule mime_module $mods/mod_mime.so
TypesConfig /etc/mime.types
User nobody
Group nogroup
DocumentRoot $dir/www
<Directory $dir/www>
	Require all granted
</Directory>
DirectoryIndex index.html
CONF
	exec apache2 -f "$dir/apache2.conf" -DFOREGROUND
	;;
lighttpd)
	cat > "$dir/lighttpd.conf" <<CONF
server.document-root = "$dir/www"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "/dev/stderr"
index-file.names = ( "index.html" )
mimetype.assign = ( ".html" => "text/html" )
CONF
	exec lighttpd -D -f "$dir/lighttpd.conf"
	;;
busybox)
	exec busybox httpd -f -p "127.0.0.1:$port" -h "$dir/www"
	;;
mini_httpd)
	exec mini_httpd -D -h 127.0.0.1 -p "$port" -d "$dir/www" -u nobody -l /dev/stderr
	;;
python)
	exec python3 -m http.server "$port" --bind 127.0.0.1 --directory "$dir/www"
	;;
go)
	bin=${GOSERVER:-$dir/goserver}
	[ -x "$bin" ] || (cd "$here/goserver" && go build -o "$bin" .)
	exec "$bin" "$port"
	;;
node)
	exec node "$here/nodeserver/server.js" "$port"
	;;
*)
	echo "serve.sh: unknown server $name (nginx apache lighttpd busybox mini_httpd python go node)" >&2
	exit 2
	;;
esac
