/* Hexadecimal digits, for the percent-decoders (SigV4's query, GET /usage's parameters). */
#ifndef CP_HEX_H
#define CP_HEX_H

/* The value of one hex digit, either case; -1 for any other character. */
static inline int hex_digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
