/* GET /dashboard: one self-contained page compiled into the binary (web/dashboard.html), served
 * with a strict Content-Security-Policy: the page's one inline <script> and one inline <style>
 * are allowed by their SHA-256 (computed once from the embedded bytes), everything else is
 * 'none' but fetches to the proxy itself. The page holds no data: it reads /health and /usage. */
#ifndef CP_DASHBOARD_H
#define CP_DASHBOARD_H
#include <h2o.h>

void dashboard_serve(h2o_req_t *req);
/* 1 when the request's Accept names text/html before (or instead of) application/json: a browser
 * navigating to /, which then gets the dashboard rather than the JSON summary. */
int dashboard_wanted(h2o_req_t *req);

#endif
