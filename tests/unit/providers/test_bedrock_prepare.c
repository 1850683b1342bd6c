/* Choosing a Bedrock request's route (bedrock_prepare.c): the key the route memory is kept by,
 * the model as the client or route() named it, per endpoint. */
#include <string.h>
#include "providers/bedrock_internal.h"
#include "check.h"

static void test_memory_key(void)
{
    struct client_request cr = {.endpoint = ENDPOINT_MESSAGES};
    char key[300];
    snprintf(cr.model, sizeof(cr.model), "claude-fable-5");
    bedrock_memory_key(&cr, key, sizeof(key));
    CHECK_STR_EQ(key, "claude-fable-5");
    /* CountTokens does not serve every model InvokeModel does: remembered apart */
    cr.endpoint = ENDPOINT_COUNT_TOKENS;
    bedrock_memory_key(&cr, key, sizeof(key));
    CHECK_STR_EQ(key, "claude-fable-5 (count_tokens)");
    /* route() named another model: that is the one the routes served or refused */
    cr.endpoint = ENDPOINT_MESSAGES;
    cr.model_override = "claude-opus-5-5";
    bedrock_memory_key(&cr, key, sizeof(key));
    CHECK_STR_EQ(key, "claude-opus-5-5");
    /* a long name is cut to 200 bytes, the endpoint's suffix kept */
    char longname[256];
    memset(longname, 'm', 250);
    longname[250] = '\0';
    cr.model_override = longname;
    cr.endpoint = ENDPOINT_COUNT_TOKENS;
    bedrock_memory_key(&cr, key, sizeof(key));
    CHECK_INT_EQ(strlen(key), 200 + strlen(" (count_tokens)"));
    CHECK(strcmp(key + 200, " (count_tokens)") == 0);
}

int main(void)
{
    test_memory_key();
    CHECK_DONE();
}
