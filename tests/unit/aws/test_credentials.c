/* The AWS credential chain: env, shared files and profiles, source_profile, unsupported kinds,
 * region order, and credential_process (async, cached, failures, timeout, cancel). */
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>
#include "aws/credentials.h"
#include "check.h"

static char dir[64];

static char *write_file(const char *name, const char *text, int mode)
{
    static char path[4][256];
    static int n;
    char *p = path[n++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    chmod(p, (mode_t)mode);
    return p;
}

static void clear_env(void)
{
    static const char *const vars[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
        "AWS_REGION",        "AWS_DEFAULT_REGION",    "AWS_CONFIG_FILE",   "AWS_SHARED_CREDENTIALS_FILE"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    setenv("HOME", dir, 1);
}

struct result {
    int calls;
    char id[64], secret[64], token[64];
    char err[300];
};

static void on_creds(void *ud, const struct aws_creds *c, const char *err)
{
    struct result *r = ud;
    r->calls++;
    if (c) {
        snprintf(r->id, sizeof(r->id), "%s", c->access_key_id);
        snprintf(r->secret, sizeof(r->secret), "%s", c->secret_access_key);
        snprintf(r->token, sizeof(r->token), "%s", c->session_token ? c->session_token : "");
        r->err[0] = '\0';
    } else {
        snprintf(r->err, sizeof(r->err), "%s", err);
    }
}

/* Gets credentials, running the loop until the callback came. */
static struct result get(uv_loop_t *loop, struct aws_cred_source *s)
{
    struct result r = {0};
    struct aws_creds_wait *w = aws_cred_source_get(s, on_creds, &r);
    while (w != NULL && r.calls == 0)
        uv_run(loop, UV_RUN_ONCE);
    return r;
}

static void test_env_and_files(uv_loop_t *loop)
{
    clear_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
    setenv("AWS_SESSION_TOKEN", "tokenenv", 1);
    struct aws_cred_source *s = aws_cred_source_new(loop, NULL, 1000);
    CHECK_STR_EQ(aws_cred_source_kind(s), "env");
    CHECK(aws_cred_source_problem(s) == NULL);
    struct result r = get(loop, s);
    CHECK_STR_EQ(r.id, "AKIDENV");
    CHECK_STR_EQ(r.token, "tokenenv");
    aws_cred_source_free(s);

    clear_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE",
           write_file("credentials",
                      "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\n"
                      "aws_secret_access_key=secretdefault\n\n[work]\n"
                      "aws_access_key_id=AKIDWORKCREDS\naws_secret_access_key = s1\n",
                      0600),
           1);
    setenv("AWS_CONFIG_FILE",
           write_file("config",
                      "[profile work]\naws_access_key_id=AKIDWORKCONFIG\naws_secret_access_key=s2\n"
                      "region = eu-west-3\ns3 =\n  max_concurrent_requests = 20\n"
                      "[profile other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = s3\n"
                      "aws_session_token = tok3\nregion = ap-south-1\n"
                      "[profile chained]\nsource_profile = other\n"
                      "[profile loop1]\nsource_profile = loop2\n[profile loop2]\nsource_profile = loop1\n"
                      "[profile role]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = other\n"
                      "[profile sso]\nsso_session = corp\nsso_account_id = 1\n",
                      0600),
           1);
    s = aws_cred_source_new(loop, NULL, 1000);
    CHECK_STR_EQ(aws_cred_source_kind(s), "profile:default");
    CHECK_STR_EQ(get(loop, s).id, "AKIDDEFAULT");
    aws_cred_source_free(s);
    setenv("AWS_PROFILE", "work", 1);
    s = aws_cred_source_new(loop, NULL, 1000);
    CHECK_STR_EQ(get(loop, s).id, "AKIDWORKCREDS"); /* the credentials file wins over the config file */
    aws_cred_source_free(s);
    s = aws_cred_source_new(loop, "other", 1000); /* the configured profile beats AWS_PROFILE */
    r = get(loop, s);
    CHECK_STR_EQ(r.id, "AKIDOTHER");
    CHECK_STR_EQ(r.token, "tok3");
    aws_cred_source_free(s);
    s = aws_cred_source_new(loop, "chained", 1000);
    CHECK_STR_EQ(get(loop, s).id, "AKIDOTHER");
    aws_cred_source_free(s);

    static const char *const problems[][2] = {
        {"loop1", "loops"}, {"role", "role_arn"}, {"sso", "SSO profile"}, {"missing", "no AWS credentials found"}};
    for (size_t i = 0; i < 4; i++) {
        s = aws_cred_source_new(loop, problems[i][0], 1000);
        const char *p = aws_cred_source_problem(s);
        CHECK(p != NULL && strstr(p, problems[i][1]) != NULL);
        r = get(loop, s);
        CHECK(r.calls == 1 && strstr(r.err, problems[i][1]) != NULL);
        aws_cred_source_free(s);
    }

    /* region: configured, AWS_REGION, AWS_DEFAULT_REGION, the profile, us-west-2; odd values skipped */
    char *region;
    CHECK_STR_EQ(region = aws_resolve_region("ca-central-1", "work"), "ca-central-1");
    free(region);
    CHECK_STR_EQ(region = aws_resolve_region(NULL, "work"), "eu-west-3");
    free(region);
    setenv("AWS_DEFAULT_REGION", "us-east-2", 1);
    CHECK_STR_EQ(region = aws_resolve_region(NULL, "work"), "us-east-2");
    free(region);
    setenv("AWS_REGION", "eu-north-1", 1);
    CHECK_STR_EQ(region = aws_resolve_region(NULL, "work"), "eu-north-1");
    free(region);
    setenv("AWS_REGION", "not a/region", 1);
    CHECK_STR_EQ(region = aws_resolve_region("bad.value", "work"), "us-east-2");
    free(region);
    clear_env();
    CHECK_STR_EQ(region = aws_resolve_region(NULL, NULL), "us-west-2");
    free(region);
}

/* Which section names a profile: "[x]" in the credentials file, "[profile x]" in the config file,
 * and for the default profile "[default]" there, or "[profile default]" if that is all it has. */
static void test_profile_sections(void)
{
    clear_env();
    setenv("AWS_SHARED_CREDENTIALS_FILE",
           write_file("credentials",
                      "[profile credsprefixed]\nregion = wrong-1\n"
                      "[credsplain]\nregion = eu-west-1\n",
                      0600),
           1);
    setenv("AWS_CONFIG_FILE",
           write_file("config",
                      "[configplain]\nregion = wrong-2\n"
                      "[profile configprefixed]\nregion = eu-west-2\n"
                      "[profile credsplain]\nregion = wrong-3\n"
                      "[default]\nregion = eu-west-3\n"
                      "[profile default]\nregion = wrong-4\n",
                      0600),
           1);
    static const char *const cases[][2] = {{"credsplain", "eu-west-1"}, /* the credentials file first */
                                           {"configprefixed", "eu-west-2"},
                                           {"credsprefixed", "us-west-2"}, /* no prefix in the credentials file */
                                           {"configplain", "us-west-2"},   /* a prefix in the config file */
                                           {"default", "eu-west-3"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *region = aws_resolve_region(NULL, cases[i][0]);
        CHECK_STR_EQ(region, cases[i][1]);
        free(region);
    }
    setenv("AWS_CONFIG_FILE", write_file("config", "[profile default]\nregion = ap-east-1\n", 0600), 1);
    char *region = aws_resolve_region(NULL, NULL);
    CHECK_STR_EQ(region, "ap-east-1");
    free(region);
    clear_env();
}

static void test_process_output_parsing(void)
{
    struct aws_creds c;
    char err[200];
    const char *ok = "{\"Version\":1,\"AccessKeyId\":\"AKIDP\",\"SecretAccessKey\":\"sp\",\"SessionToken\":\"tp\","
                     "\"Expiration\":\"2030-01-02T03:04:05Z\"}";
    CHECK_INT_EQ(aws_parse_process_output(ok, strlen(ok), &c, err, sizeof(err)), 0);
    CHECK_STR_EQ(c.access_key_id, "AKIDP");
    CHECK_INT_EQ(c.expiration, 1893553445);
    aws_creds_clear(&c);
    const char *frac = "{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Expiration\":\"2030-01-02T04:"
                       "04:05.123+01:00\"}";
    CHECK_INT_EQ(aws_parse_process_output(frac, strlen(frac), &c, err, sizeof(err)), 0);
    CHECK_INT_EQ(c.expiration, 1893553445);
    CHECK(c.session_token == NULL);
    aws_creds_clear(&c);
    static const char *const bad[][2] = {
        {"not json", "JSON object"},
        {"{\"Version\":2,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}", "Version"},
        {"{\"Version\":1,\"AccessKeyId\":\"A\"}", "SecretAccessKey"},
        {"{\"Version\":1,\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Expiration\":\"soon\"}", "Expiration"}};
    for (size_t i = 0; i < 4; i++) {
        CHECK_INT_EQ(aws_parse_process_output(bad[i][0], strlen(bad[i][0]), &c, err, sizeof(err)), -1);
        CHECK(strstr(err, bad[i][1]) != NULL);
    }
}

static int timer_fired;
static void on_tick(uv_timer_t *t)
{
    (void)t;
    timer_fired++;
}

static void test_process(uv_loop_t *loop)
{
    clear_env();
    char runs[300];
    snprintf(runs, sizeof(runs), "%s/runs", dir);
    char script[1024];
    snprintf(
        script, sizeof(script),
        "#!/bin/sh\necho run >> %s\nsleep ${DELAY:-0}\n"
        "echo '{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\",\"SecretAccessKey\":\"sproc\",\"Expiration\":\"%s\"}'\n",
        runs, "2099-01-01T00:00:00Z");
    char *good = strdup(write_file("good.sh", script, 0700));
    snprintf(script, sizeof(script),
             "#!/bin/sh\necho run >> %s\necho '{\"Version\":1,\"AccessKeyId\":\"AKIDSOON\",\"SecretAccessKey\":\"s\","
             "\"Expiration\":\"2000-01-01T00:00:00Z\"}'\n",
             runs);
    char *expiring = strdup(write_file("expiring.sh", script, 0700));
    char config[2048];
    snprintf(config, sizeof(config),
             "[profile proc]\ncredential_process = %s\n[profile slow]\ncredential_process = DELAY=5 %s\n"
             "[profile soon]\ncredential_process = %s\n[profile fails]\ncredential_process = sh -c 'echo bad thing "
             "happened >&2; echo second line SECRET >&2; exit 4'\n[profile garbage]\ncredential_process = echo nope\n",
             good, good, expiring);
    setenv("AWS_CONFIG_FILE", write_file("config", config, 0600), 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);

    /* several concurrent gets: one run; then cached: synchronous */
    unlink(runs);
    struct aws_cred_source *s = aws_cred_source_new(loop, "proc", 5000);
    CHECK_STR_EQ(aws_cred_source_kind(s), "process:proc");
    struct result r1 = {0}, r2 = {0}, r3 = {0};
    CHECK(aws_cred_source_get(s, on_creds, &r1) != NULL);
    CHECK(aws_cred_source_get(s, on_creds, &r2) != NULL);
    while (r1.calls == 0 || r2.calls == 0)
        uv_run(loop, UV_RUN_ONCE);
    CHECK_STR_EQ(r1.id, "AKIDPROC");
    CHECK_STR_EQ(r2.secret, "sproc");
    CHECK(aws_cred_source_get(s, on_creds, &r3) == NULL); /* cached until shortly before Expiration */
    CHECK_INT_EQ(r3.calls, 1);
    FILE *f = fopen(runs, "r");
    int lines = 0;
    for (int ch; f && (ch = fgetc(f)) != EOF;)
        lines += ch == '\n';
    if (f)
        fclose(f);
    CHECK_INT_EQ(lines, 1);
    aws_cred_source_free(s);

    /* Expiration within 5 minutes: not cached, the process runs again */
    unlink(runs);
    s = aws_cred_source_new(loop, "soon", 5000);
    CHECK_STR_EQ(get(loop, s).id, "AKIDSOON");
    CHECK_STR_EQ(get(loop, s).id, "AKIDSOON");
    f = fopen(runs, "r");
    lines = 0;
    for (int ch; f && (ch = fgetc(f)) != EOF;)
        lines += ch == '\n';
    if (f)
        fclose(f);
    CHECK_INT_EQ(lines, 2);
    aws_cred_source_free(s);

    /* failure: first stderr line only, and the source reports a problem for a while */
    s = aws_cred_source_new(loop, "fails", 5000);
    struct result r = get(loop, s);
    CHECK(strstr(r.err, "exit 4") != NULL && strstr(r.err, "bad thing happened") != NULL);
    CHECK(strstr(r.err, "SECRET") == NULL);
    CHECK(aws_cred_source_problem(s) != NULL);
    aws_cred_source_free(s);
    s = aws_cred_source_new(loop, "garbage", 5000);
    CHECK(strstr(get(loop, s).err, "JSON object") != NULL);
    aws_cred_source_free(s);

    /* slow: times out without blocking the loop */
    s = aws_cred_source_new(loop, "slow", 300);
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, on_tick, 50, 50);
    timer_fired = 0;
    r = get(loop, s);
    uv_timer_stop(&tick);
    uv_close((uv_handle_t *)&tick, NULL);
    CHECK(strstr(r.err, "timed out") != NULL);
    CHECK(timer_fired >= 3);
    aws_cred_source_free(s);

    /* cancel a wait, then free the source while its process runs: no callback, no leak */
    s = aws_cred_source_new(loop, "slow", 5000);
    struct result never = {0};
    struct aws_creds_wait *w = aws_cred_source_get(s, on_creds, &never);
    CHECK(w != NULL);
    aws_creds_wait_cancel(w);
    aws_cred_source_free(s);
    uv_run(loop, UV_RUN_DEFAULT);
    CHECK_INT_EQ(never.calls, 0);
    free(good);
    free(expiring);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/cp-aws-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    uv_loop_t loop;
    uv_loop_init(&loop);
    test_env_and_files(&loop);
    test_profile_sections();
    test_process_output_parsing();
    test_process(&loop);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT_EQ(uv_loop_close(&loop), 0);
    CHECK_DONE();
}
