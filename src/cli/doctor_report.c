#include "cli/doctor_report.h"
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "common/redact.h"
#include "common/memory.h"

struct check {
    char section[128];
    enum doctor_status st;
    char text[700];
    char fix[400];
};

struct model_row {
    char provider[64], model[128], route[32], id[256], probe[400];
};

struct doctor_report {
    char section[128];
    struct check *checks;
    size_t n, cap;
    struct model_row *models;
    size_t nmodels, capmodels;
    int ready;
    char summary[700];
};

struct doctor_report *doctor_report_new(void)
{
    struct doctor_report *r = xcalloc(1, sizeof(*r));
    return r;
}

void doctor_report_free(struct doctor_report *r)
{
    free(r->checks);
    free(r->models);
    free(r);
}

void doctor_report_section(struct doctor_report *r, const char *name)
{
    snprintf(r->section, sizeof(r->section), "%s", name);
}

void doctor_report_add(struct doctor_report *r, enum doctor_status st, const char *fix, const char *fmt, ...)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 32;
        r->checks = xrealloc(r->checks, r->cap * sizeof(*r->checks));
    }
    struct check *c = &r->checks[r->n++];
    memset(c, 0, sizeof(*c));
    snprintf(c->section, sizeof(c->section), "%s", r->section);
    c->st = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->text, sizeof(c->text), fmt, ap);
    va_end(ap);
    if (fix != NULL)
        snprintf(c->fix, sizeof(c->fix), "%s", fix);
    /* whatever an upstream said may quote a token: masked like every log line */
    redact_tokens_in_text(c->text);
    redact_tokens_in_text(c->fix);
}

void doctor_report_model(struct doctor_report *r, const char *provider, const char *model, const char *route,
                         const char *id, const char *probe)
{
    if (r->nmodels == r->capmodels) {
        r->capmodels = r->capmodels ? 2 * r->capmodels : 8;
        r->models = xrealloc(r->models, r->capmodels * sizeof(*r->models));
    }
    struct model_row *m = &r->models[r->nmodels++];
    memset(m, 0, sizeof(*m));
    snprintf(m->provider, sizeof(m->provider), "%s", provider);
    snprintf(m->model, sizeof(m->model), "%s", model);
    snprintf(m->route, sizeof(m->route), "%s", route ? route : "");
    snprintf(m->id, sizeof(m->id), "%s", id ? id : "");
    snprintf(m->probe, sizeof(m->probe), "%s", probe ? probe : "");
    redact_tokens_in_text(m->probe);
}

void doctor_report_summary(struct doctor_report *r, int ready, const char *text)
{
    r->ready = ready;
    snprintf(r->summary, sizeof(r->summary), "%s", text);
}

static const char *mark(enum doctor_status st)
{
    return st == DOCTOR_OK ? "\u2713" : st == DOCTOR_FAIL ? "\u2717" : "\u2013";
}

static const char *status_name(enum doctor_status st)
{
    return st == DOCTOR_OK ? "ok" : st == DOCTOR_FAIL ? "fail" : "skip";
}

static void print_json(const struct doctor_report *r, FILE *out)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *checks = cJSON_AddArrayToObject(root, "checks");
    for (size_t i = 0; i < r->n; i++) {
        const struct check *c = &r->checks[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "section", c->section);
        cJSON_AddStringToObject(o, "status", status_name(c->st));
        cJSON_AddStringToObject(o, "text", c->text);
        if (c->fix[0])
            cJSON_AddStringToObject(o, "fix", c->fix);
        cJSON_AddItemToArray(checks, o);
    }
    cJSON *models = cJSON_AddArrayToObject(root, "models");
    for (size_t i = 0; i < r->nmodels; i++) {
        const struct model_row *m = &r->models[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "provider", m->provider);
        cJSON_AddStringToObject(o, "model", m->model);
        if (m->route[0])
            cJSON_AddStringToObject(o, "route", m->route);
        if (m->id[0])
            cJSON_AddStringToObject(o, "id", m->id);
        if (m->probe[0])
            cJSON_AddStringToObject(o, "probe", m->probe);
        cJSON_AddItemToArray(models, o);
    }
    cJSON_AddBoolToObject(root, "ready", r->ready);
    cJSON_AddStringToObject(root, "summary", r->summary);
    char *s = cJSON_Print(root);
    fprintf(out, "%s\n", s);
    free(s);
    cJSON_Delete(root);
}

void doctor_report_print(const struct doctor_report *r, FILE *out, int json)
{
    if (json) {
        print_json(r, out);
        return;
    }
    const char *section = NULL;
    for (size_t i = 0; i < r->n; i++) {
        const struct check *c = &r->checks[i];
        if (section == NULL || strcmp(section, c->section) != 0) {
            fprintf(out, "%s%s\n", section ? "\n" : "", c->section);
            section = c->section;
        }
        fprintf(out, "  %s %s\n", mark(c->st), c->text);
        if (c->st == DOCTOR_FAIL && c->fix[0])
            fprintf(out, "      fix: %s\n", c->fix);
    }
    fprintf(out, "\n%s %s\n", r->ready ? "\u2713" : "\u2717", r->summary);
}
