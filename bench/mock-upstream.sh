# Sourced by bench/run.sh and bench/instructions.sh: writes the mock upstream's nginx config.
# mock_upstream_conf WORK PORT: nginx answering from the files bodies.py wrote into WORK.
# /v1/messages answers JSON, or SSE with ?sse=1; Bedrock's InvokeModel answers JSON and
# InvokeModelWithResponseStream the event-stream. It reads the request and verifies nothing (no
# signature check), so that the proxy's cost is what shows.
# The http{} settings both nginx configs share: no access log, bodies up to 64 MiB kept in memory,
# connections kept for the whole run.
nginx_http_settings() {
    printf '%s\n' '  access_log off;' '  client_max_body_size 64m;' '  client_body_buffer_size 4m;' \
        '  keepalive_requests 1000000;'
}

# What the mock answers where, for each server{} of its config.
mock_locations() { # WORK
    cat <<NGX
    location = /v1/messages { default_type application/json; if (\$arg_sse) { rewrite ^ /sse last; } rewrite ^ /json last; }
    location ~ ^/model/[^/]+/invoke\$ { rewrite ^ /json last; }
    location ~ ^/model/[^/]+/invoke-with-response-stream\$ { rewrite ^ /eventstream last; }
    location = /json { internal; default_type application/json; alias $1/answer.json; error_page 405 =200 \$uri; }
    location = /sse  { internal; default_type text/event-stream; alias $1/answer.sse; error_page 405 =200 \$uri; }
    location = /eventstream { internal; default_type application/vnd.amazon.eventstream;
                              alias $1/answer.eventstream; error_page 405 =200 \$uri; }
NGX
}

# mock_upstream_conf WORK PORT [TLS_PORT]: with TLS_PORT, the same answers over HTTPS there too, with
# the certificate make_test_ca wrote (for localhost: on ::1 as well where loopback has it, since a
# client may resolve localhost to either), TLS 1.2 and 1.3.
mock_upstream_conf() {
    tls=
    if [ -n "${3:-}" ]; then
        v6=; grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null && v6="listen [::1]:$3 ssl;"
        tls="  server {
    listen 127.0.0.1:$3 ssl; $v6
    ssl_certificate $1/localhost.pem; ssl_certificate_key $1/localhost.key;
    ssl_protocols TLSv1.2 TLSv1.3; # nginx 1.22 leaves TLS 1.3 out by default; Anthropic and AWS speak it
$(mock_locations "$1")
  }"
    fi
    cat > "$1/up.conf" <<NGX
worker_processes 1;
pid $1/up.pid;
error_log $1/up.err warn;
events { worker_connections 4096; }
http {
$(nginx_http_settings)
  server {
    listen 127.0.0.1:$2;
$(mock_locations "$1")
  }
$tls
}
NGX
}

# make_test_ca WORK: a CA made for this run (ca.pem) and a certificate it signed for localhost
# (localhost.pem, localhost.key), as the proxy's tests make theirs.
make_test_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench CA" \
        -keyout "$1/ca.key" -out "$1/ca.pem" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
        -keyout "$1/localhost.key" -out "$1/localhost.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$1/localhost.ext"
    openssl x509 -req -in "$1/localhost.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" -CAcreateserial -days 2 \
        -extfile "$1/localhost.ext" -out "$1/localhost.pem" 2>/dev/null
}
