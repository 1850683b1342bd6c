/* The AWS shared-file reader: sections named exactly (the "profile " prefix is the caller's, see
 * test_credentials.c), keys in any case, comments, whitespace and CRLF, nested sub-sections, long
 * values, and files or sections that are not there. */
#include <stdlib.h>
#include <unistd.h>
#include "aws/ini.h"
#include "check.h"

static char dir[64];

static const char *write_file(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* The value as a string to compare ("(null)" when missing), freed here. */
static const char *get(const char *path, const char *section, const char *key)
{
    static char buf[8][5000];
    static int n;
    char *v = aws_ini_get(path, section, key);
    char *b = buf[n++ % 8];
    snprintf(b, sizeof(buf[0]), "%s", v ? v : "(null)");
    free(v);
    return b;
}

static void test_sections(void)
{
    const char *p = write_file("config", "[default]\nregion = us-east-1\n"
                                         "[profile work]\nregion = eu-west-3\n"
                                         "[work]\nregion = ap-south-1\n"
                                         "[ spaced ]\nregion = sa-east-1\n"
                                         "[empty]\n"
                                         "[Upper]\nregion = ca-central-1\n");
    CHECK_STR_EQ(get(p, "default", "region"), "us-east-1");
    /* "[profile work]" and "[work]" are different sections: the reader does not add or strip the prefix */
    CHECK_STR_EQ(get(p, "profile work", "region"), "eu-west-3");
    CHECK_STR_EQ(get(p, "work", "region"), "ap-south-1");
    CHECK_STR_EQ(get(p, "profile  work", "region"), "(null)");
    CHECK_STR_EQ(get(p, "spaced", "region"), "sa-east-1"); /* blanks inside the brackets do not count */
    CHECK_STR_EQ(get(p, "upper", "region"), "(null)");     /* section names are case-sensitive */
    CHECK_STR_EQ(get(p, "Upper", "region"), "ca-central-1");
    CHECK_STR_EQ(get(p, "empty", "region"), "(null)");
    CHECK_STR_EQ(get(p, "missing", "region"), "(null)");
    CHECK_INT_EQ(aws_ini_has_section(p, "empty"), 1);
    CHECK_INT_EQ(aws_ini_has_section(p, "profile work"), 1);
    CHECK_INT_EQ(aws_ini_has_section(p, "missing"), 0);
    CHECK_INT_EQ(aws_ini_has_section(p, "profile"), 0);
}

static void test_keys_and_values(void)
{
    const char *p = write_file("credentials", "[default]\n"
                                              "AWS_Access_Key_ID=AKIDMIXED\n"
                                              "aws_secret_access_key   =   se/cr+et==   \n"
                                              "\taws_session_token\t=\ttok\t\n"
                                              "empty =\n"
                                              "no equals sign here\n"
                                              "url = https://example.com/?a=b#frag\n"
                                              "[other]\n"
                                              "aws_access_key_id = AKIDOTHER\n");
    CHECK_STR_EQ(get(p, "default", "aws_access_key_id"), "AKIDMIXED"); /* keys in any case */
    CHECK_STR_EQ(get(p, "default", "AWS_ACCESS_KEY_ID"), "AKIDMIXED");
    /* blanks around the value go, the '=' inside it (base64 padding) stays */
    CHECK_STR_EQ(get(p, "default", "aws_secret_access_key"), "se/cr+et==");
    CHECK_STR_EQ(get(p, "default", "aws_session_token"), "tok");
    CHECK_STR_EQ(get(p, "default", "empty"), "");
    CHECK_STR_EQ(get(p, "default", "no equals sign here"), "(null)");
    /* no inline comments: '#' after the value is part of it, as botocore reads it */
    CHECK_STR_EQ(get(p, "default", "url"), "https://example.com/?a=b#frag");
    /* a key of the next section is not the first one's, and the other way round */
    CHECK_STR_EQ(get(p, "other", "aws_access_key_id"), "AKIDOTHER");
    CHECK_STR_EQ(get(p, "other", "aws_secret_access_key"), "(null)");
}

static void test_comments_and_blank_lines(void)
{
    const char *p = write_file("config", "# a comment\n"
                                         "; another\n"
                                         "\n"
                                         "[default]\n"
                                         "   # indented comment = not a key\n"
                                         "; region = commented-out\n"
                                         "\n"
                                         "   \n"
                                         "region = us-east-2\n"
                                         "#[other]\n"
                                         "output = json\n");
    CHECK_STR_EQ(get(p, "default", "region"), "us-east-2");
    CHECK_STR_EQ(get(p, "default", "# indented comment"), "(null)");
    CHECK_STR_EQ(get(p, "default", "; region"), "(null)");
    CHECK_STR_EQ(get(p, "default", "output"), "json"); /* a commented-out header starts no section */
    CHECK_INT_EQ(aws_ini_has_section(p, "other"), 0);
}

/* Files written on Windows end their lines with CR LF. */
static void test_crlf(void)
{
    const char *p = write_file("config", "[profile win]\r\nregion = eu-central-1\r\nkey=v\r\n");
    CHECK_STR_EQ(get(p, "profile win", "region"), "eu-central-1");
    CHECK_STR_EQ(get(p, "profile win", "key"), "v");
}

/* "s3 =" followed by indented lines is a nested sub-section: its keys are not the profile's. */
static void test_nested(void)
{
    const char *p = write_file("config", "[default]\n"
                                         "s3 =\n"
                                         "  max_concurrent_requests = 20\n"
                                         "  region = nested-region\n"
                                         "\tsignature_version = s3v4\n"
                                         "region = us-west-1\n"
                                         "  max_concurrent_requests = 7\n"
                                         "[other]\n"
                                         "  region = indented-but-not-nested\n");
    CHECK_STR_EQ(get(p, "default", "s3"), "");
    CHECK_STR_EQ(get(p, "default", "signature_version"), "(null)");
    CHECK_STR_EQ(get(p, "default", "region"), "us-west-1");
    /* an indented line after a key with a value is not nested */
    CHECK_STR_EQ(get(p, "default", "max_concurrent_requests"), "7");
    /* a section header ends the nested block */
    CHECK_STR_EQ(get(p, "other", "region"), "indented-but-not-nested");
}

/* A session token is over a thousand characters. */
static void test_long_value(void)
{
    static char text[4200], token[3001];
    memset(token, 'T', 3000);
    token[3000] = '\0';
    snprintf(text, sizeof(text), "[default]\naws_session_token = %s\nregion = r\n", token);
    const char *p = write_file("credentials", text);
    CHECK_STR_EQ(get(p, "default", "aws_session_token"), token);
    CHECK_STR_EQ(get(p, "default", "region"), "r");
}

static void test_missing_and_odd_files(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/nonexistent", dir);
    CHECK_STR_EQ(get(path, "default", "region"), "(null)");
    CHECK_INT_EQ(aws_ini_has_section(path, "default"), 0);
    CHECK_STR_EQ(get(dir, "default", "region"), "(null)"); /* a directory */
    const char *p = write_file("empty", "");
    CHECK_STR_EQ(get(p, "default", "region"), "(null)");
    CHECK_INT_EQ(aws_ini_has_section(p, "default"), 0);
    /* keys before any section belong to none */
    p = write_file("nosection", "region = x\n[default]\n");
    CHECK_STR_EQ(get(p, "default", "region"), "(null)");
    CHECK_STR_EQ(get(p, "", "region"), "(null)");
    /* no newline at the end */
    p = write_file("noeol", "[default]\nregion = eu-west-1");
    CHECK_STR_EQ(get(p, "default", "region"), "eu-west-1");
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/cp-test-ini-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    test_sections();
    test_keys_and_values();
    test_comments_and_blank_lines();
    test_crlf();
    test_nested();
    test_long_value();
    test_missing_and_odd_files();
    static const char *const files[] = {"config", "credentials", "empty", "nosection", "noeol"};
    char path[256];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    CHECK_DONE();
}
