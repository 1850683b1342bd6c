/* The AWS shared config and credentials files: INI sections of key = value. */
#ifndef CP_AWS_INI_H
#define CP_AWS_INI_H

/* Looks up `key` in section `section` of the file at path (NULL if the file, the section or
 * the key is missing). Keys compare case-insensitively; `#`/`;` start comments; indented lines
 * after a key with an empty value (nested sub-sections such as `s3 =`) are skipped.
 * Returns a malloc'd string. */
char *aws_ini_get(const char *path, const char *section, const char *key);
/* 1 if the file has the section. */
int aws_ini_has_section(const char *path, const char *section);

#endif
