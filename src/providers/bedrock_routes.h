/* Bedrock's three routes to Claude, what tells that a route does not serve a model, and what
 * the process has learnt about which route serves which model (per provider, region, model).
 *   invoke:  bedrock-runtime InvokeModel (event-stream), SigV4 service bedrock, id in the path
 *   runtime: bedrock-runtime /anthropic/v1/messages (SSE), service bedrock, profile id in the body
 *   mantle:  bedrock-mantle /anthropic/v1/messages (SSE), service bedrock-mantle, bare id */
#ifndef CP_BEDROCK_ROUTES_H
#define CP_BEDROCK_ROUTES_H
#include <stddef.h>
#include "common/sbuf.h"

enum bedrock_route { BEDROCK_INVOKE, BEDROCK_RUNTIME, BEDROCK_MANTLE, BEDROCK_NUM_ROUTES };

const char *bedrock_route_name(enum bedrock_route r);
/* -1 if the name is none of them */
int bedrock_route_parse(const char *name);

/* Whether an error answer says that the route does not serve this model (an invalid or unknown
 * model id, "on-demand throughput isn't supported", ResourceNotFound, UnknownOperation, a model
 * missing from bedrock-mantle's lineup) rather than that the request is wrong or Bedrock busy.
 * error_type: x-amzn-errortype (may be NULL). A short reason goes to why. */
int bedrock_error_is_route_refusal(int status, const char *error_type, const char *body, size_t len, char *why,
                                   size_t whylen);

/* What was learnt, for the process's lifetime (reloads keep it). */
enum bedrock_route_state { BEDROCK_ROUTE_UNKNOWN, BEDROCK_ROUTE_SERVES, BEDROCK_ROUTE_REFUSED };
void bedrock_route_note(const char *provider, const char *region, const char *model, enum bedrock_route r,
                        enum bedrock_route_state state, const char *why);
enum bedrock_route_state bedrock_route_known(const char *provider, const char *region, const char *model,
                                             enum bedrock_route r);
/* "routes":[{"model":..,"region":..,"invoke":"serves","runtime":"refused: ..."}] for /health */
void bedrock_route_describe(const char *provider, sbuf *json_members);

#endif
