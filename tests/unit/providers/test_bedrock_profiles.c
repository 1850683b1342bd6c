/* The account's inference profiles: parsing a ListInferenceProfiles page (bedrock_profiles.c).
 * Choosing among the profiles a listing names is tested in test_bedrock_models.c. */
#include "providers/bedrock_profiles.h"
#include "check.h"

static void test_parse_page(void)
{
    char **ids = NULL, *next = NULL, err[200];
    size_t n = 0;
    const char *page1 = "{\"inferenceProfileSummaries\":[{\"inferenceProfileId\":\"us.anthropic.claude-opus-4-6-v1\","
                        "\"status\":\"ACTIVE\"},{\"inferenceProfileName\":\"no id\"},{\"inferenceProfileId\":7},"
                        "{\"inferenceProfileId\":\"global.anthropic.claude-opus-5-5\"}],\"nextToken\":\"abc+/=\"}";
    CHECK_INT_EQ(bedrock_profiles_parse_page(page1, strlen(page1), &ids, &n, &next, err, sizeof(err)), 0);
    CHECK_INT_EQ(n, 2);
    CHECK_STR_EQ(ids[0], "us.anthropic.claude-opus-4-6-v1");
    CHECK_STR_EQ(next, "abc+/=");
    free(next);
    const char *page2 = "{\"inferenceProfileSummaries\":[{\"inferenceProfileId\":\"us.meta.llama3-70b\"}]}";
    CHECK_INT_EQ(bedrock_profiles_parse_page(page2, strlen(page2), &ids, &n, &next, err, sizeof(err)), 0);
    CHECK_INT_EQ(n, 3);
    CHECK(next == NULL);
    struct bedrock_profiles_listing l = {ids, n, 0, 1};
    CHECK_INT_EQ(bedrock_profiles_count_claude(&l), 2);
    const char *bad = "{\"message\":\"nope\"}";
    CHECK(bedrock_profiles_parse_page(bad, strlen(bad), &ids, &n, &next, err, sizeof(err)) != 0);
    CHECK(strstr(err, "inferenceProfileSummaries") != NULL);
    CHECK(bedrock_profiles_parse_page("[", 1, &ids, &n, &next, err, sizeof(err)) != 0);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

int main(void)
{
    test_parse_page();
    CHECK_DONE();
}
