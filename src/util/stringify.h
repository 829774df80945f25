/* A macro's value as a string literal, for SQL and messages built at
 * compile time from a numeric constant ("LIMIT " STRINGIFY(FOLD_ROWS)).
 * Two steps, so that the argument is expanded before # quotes it. */
#ifndef AGORA_STRINGIFY_H
#define AGORA_STRINGIFY_H

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

#endif
