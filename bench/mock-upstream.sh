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

mock_upstream_conf() {
    cat > "$1/up.conf" <<NGX
worker_processes 1;
pid $1/up.pid;
error_log $1/up.err warn;
events { worker_connections 4096; }
http {
$(nginx_http_settings)
  server {
    listen 127.0.0.1:$2;
    location = /v1/messages { default_type application/json; if (\$arg_sse) { rewrite ^ /sse last; } rewrite ^ /json last; }
    location ~ ^/model/[^/]+/invoke\$ { rewrite ^ /json last; }
    location ~ ^/model/[^/]+/invoke-with-response-stream\$ { rewrite ^ /eventstream last; }
    location = /json { internal; default_type application/json; alias $1/answer.json; error_page 405 =200 \$uri; }
    location = /sse  { internal; default_type text/event-stream; alias $1/answer.sse; error_page 405 =200 \$uri; }
    location = /eventstream { internal; default_type application/vnd.amazon.eventstream;
                              alias $1/answer.eventstream; error_page 405 =200 \$uri; }
  }
}
NGX
}
