/* AWS Bedrock (placeholder until the SigV4 / event-stream modules land). */
#include <stdlib.h>
#include "provider.h"

static int bedrock_configure(struct provider *p, lua_State *L, int idx, char *err, size_t errlen)
{
    (void)p, (void)L, (void)idx, (void)err, (void)errlen;
    return 0;
}

static void *bedrock_prepare(struct provider *p, const struct client_request *cr, struct upstream_request *out,
                             provider_prepared_cb done, void *ud)
{
    (void)p, (void)cr, (void)out;
    done(ud, "api_error", "the Bedrock provider is not available in this build");
    return NULL;
}

static const char *bedrock_problem(struct provider *p)
{
    (void)p;
    return "not implemented yet";
}

const struct provider_ops provider_bedrock = {
    .type = "bedrock",
    .configure = bedrock_configure,
    .prepare = bedrock_prepare,
    .problem = bedrock_problem,
};
