/* A config file for a test: the text written to a fresh file under /tmp, whose path is returned
 * (a static buffer: copy it to keep two). The caller unlinks it. */
#ifndef CP_TEST_CONFIG_FILE_H
#define CP_TEST_CONFIG_FILE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/cp-test-config-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
    return path;
}

#endif
