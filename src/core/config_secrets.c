/* The config and its secrets: a file holding a token or client keys must be private (the
 * proxy.check_secret_file helper, client_keys_file), a config others can read is warned about when
 * it holds one itself, and a load error, which /health shows to anyone, is cleaned of what may be a
 * secret before it is kept or logged. The warnings name the kind of secret, never the secret. */
#include <errno.h>
#include <lauxlib.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/config.h"
#include "core/config_internal.h"
#include "common/redact.h"
#include "common/memory.h"

#define CONFIG_SCAN_MAX (1024 * 1024) /* configs are small; a bigger one is scanned in part */

int config_lua_check_secret_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s holds a secret but is readable by other users (mode %04o); run: chmod 600 %s",
                 path, (unsigned)(st.st_mode & 07777), path);
        lua_pushstring(L, msg);
        return lua_error(L);
    }
    return 0;
}

int config_read_client_keys_file(struct proxy_config *c, const char *path, char *err, size_t errlen)
{
    struct stat st;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "config: cannot read client_keys_file %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0) {
        snprintf(err, errlen, "config: %s holds client keys but is readable by other users; run: chmod 600 %s", path,
                 path);
        fclose(f);
        return -1;
    }
    size_t n = 0;
    while (c->client_keys[n] != NULL)
        n++;
    char line[512];
    while (n < CONFIG_MAX_LIST && fgets(line, sizeof(line), f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '\0' && line[0] != '#')
            c->client_keys[n++] = xstrdup(line);
    }
    c->client_keys[n] = NULL;
    OPENSSL_cleanse(line, sizeof(line));
    fclose(f);
    return 0;
}

/* 1 if a line of Lua code (not a comment) holds an Anthropic token. */
static int line_has_token(const char *line)
{
    const char *code = line + strspn(line, " \t");
    return strncmp(code, "--", 2) != 0 && strstr(code, "sk-ant-") != NULL;
}

/* 1 if the text of the config holds one of the client keys it configured, literally: keys from
 * client_keys_file or from the environment are not in it, and need no warning. */
static int text_has_client_key(const struct proxy_config *c, FILE *f)
{
    if (c->client_keys[0] == NULL)
        return 0;
    char *text = calloc(1, CONFIG_SCAN_MAX + 1);
    if (text == NULL)
        return 0;
    size_t n = fread(text, 1, CONFIG_SCAN_MAX, f);
    int found = 0;
    for (size_t i = 0; c->client_keys[i] != NULL && !found; i++)
        found = c->client_keys[i][0] != '\0' && strstr(text, c->client_keys[i]) != NULL;
    OPENSSL_cleanse(text, n); /* it may hold secrets */
    free(text);
    return found;
}

void config_warn_if_secret_readable(const struct proxy_config *c, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || (st.st_mode & 044) == 0)
        return;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[1024];
    int token = 0;
    while (!token && fgets(line, sizeof(line), f) != NULL)
        token = line_has_token(line);
    OPENSSL_cleanse(line, sizeof(line));
    rewind(f);
    int keys = text_has_client_key(c, f);
    fclose(f);
    if (token)
        log_warn("%s contains a token but other users can read it: move the token to ~/.config/claude-proxy/token "
                 "(mode 0600) or run chmod 600 %s",
                 path, path);
    if (keys)
        log_warn("%s contains client keys but other users can read it: move them to a client_keys_file (mode 0600) "
                 "or run chmod 600 %s",
                 path, path);
}

/* A Lua syntax error ends by quoting the token it stopped at: "file:3: '}' expected near
 * '"abc"'" (a require()d file's too, inside the error that wraps it). A string literal there may
 * be a secret that is not token-shaped, a client key, and /health shows a reload error to anyone:
 * it becomes "near <string>"; file:line and the message before it stay. */
static void hide_string_near(char *err, size_t errlen)
{
    for (char *p = strstr(err, " near '"); p != NULL; p = strstr(p + 1, " near '")) {
        const char *tok = p + 7;
        if (*tok == '"' || *tok == '\'' || (*tok == '[' && (tok[1] == '[' || tok[1] == '='))) {
            snprintf(p, errlen - (size_t)(p - err), " near <string>"); /* the token ends the message */
            return;
        }
    }
}

void config_hide_secrets_in_error(char *err, size_t errlen)
{
    hide_string_near(err, errlen); /* Lua quotes the source near a syntax error */
    redact_tokens_in_text(err);
}
