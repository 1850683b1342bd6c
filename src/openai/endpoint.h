/* POST /chat/completions and /v1/chat/completions (OpenAI Chat Completions), and GET /v1/models
 * for OpenAI clients: translated to Anthropic Messages, sent through the same provider chain,
 * and translated back. */
#ifndef CP_ENDPOINT_OPENAI_H
#define CP_ENDPOINT_OPENAI_H
#include <h2o.h>

struct proxy_config;

void endpoint_openai_chat(h2o_req_t *req, struct proxy_config *cfg);
void endpoint_openai_models(h2o_req_t *req, struct proxy_config *cfg);

#endif
