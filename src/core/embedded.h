/* Files compiled into the binary (lua/ helpers and the default etc/claude-proxy.lua). */
#ifndef CP_EMBEDDED_H
#define CP_EMBEDDED_H
#include <stddef.h>

struct embedded_file {
    const char *name; /* base name, e.g. "models.lua" */
    const char *data; /* NUL-terminated */
    size_t len;
};

extern const struct embedded_file embedded_files[]; /* terminated by name == NULL */

const struct embedded_file *embedded_find(const char *name);

#endif
