#include "endpoint_openai.h"
#include "errors.h"

void endpoint_openai_chat(h2o_req_t *req, struct proxy_config *cfg)
{
    (void)cfg;
    send_error(req, API_OPENAI, 501, "api_error", "not implemented yet", NULL, NULL);
}

void endpoint_openai_models(h2o_req_t *req, struct proxy_config *cfg)
{
    (void)cfg;
    send_error(req, API_OPENAI, 501, "api_error", "not implemented yet", NULL, NULL);
}
