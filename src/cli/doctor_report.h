/* What `claude-proxy doctor` found: one line per check (✓ / ✗ / –, and for each ✗ the one thing
 * to do), printed for a person or as JSON. Nothing here may hold a secret. */
#ifndef CP_DOCTOR_REPORT_H
#define CP_DOCTOR_REPORT_H
#include <stdio.h>

enum doctor_status { DOCTOR_OK, DOCTOR_FAIL, DOCTOR_SKIP };

struct doctor_report;

struct doctor_report *doctor_report_new(void);
void doctor_report_free(struct doctor_report *r);
/* Starts a section ("config", "provider anthropic (anthropic)"). */
void doctor_report_section(struct doctor_report *r, const char *name);
/* Adds a check to the current section; fix (may be NULL) is what to do about a ✗. */
void doctor_report_add(struct doctor_report *r, enum doctor_status st, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A model's route and id (and the probe's outcome) for the JSON form. */
void doctor_report_model(struct doctor_report *r, const char *provider, const char *model, const char *route,
                         const char *id, const char *probe);
void doctor_report_summary(struct doctor_report *r, int ready, const char *text);
void doctor_report_print(const struct doctor_report *r, FILE *out, int json);

#endif
