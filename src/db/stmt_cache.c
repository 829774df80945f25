/* The table behind db_exec's prepared statements (see stmt_cache.h). A
 * linear scan over at most 64 hashes is cheaper than the string compare
 * that confirms a hit, so there is no hash table. */
#include "db/stmt_cache.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* FNV-1a: the texts are our own, so no adversary picks collisions, and a
 * collision only costs the strcmp that follows. */
static uint64_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void stmt_cache_init(struct stmt_cache *c)
{
    memset(c, 0, sizeof *c);
}

void stmt_cache_clear(struct stmt_cache *c)
{
    for (unsigned i = 0; i < c->count; i++)
        free(c->slot[i].sql);
    stmt_cache_init(c);
}

bool stmt_cache_wanted(const char *sql)
{
    static const char *const verbs[] = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"};
    while (isspace((unsigned char)*sql))
        sql++;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        size_t n = strlen(verbs[i]);
        if (strncasecmp(sql, verbs[i], n) == 0 && !isalnum((unsigned char)sql[n]) && sql[n] != '_')
            return true;
    }
    return false;
}

int stmt_cache_find(const struct stmt_cache *c, const char *sql)
{
    uint64_t h = hash_text(sql);
    for (unsigned i = 0; i < c->count; i++)
        if (c->slot[i].hash == h && strcmp(c->slot[i].sql, sql) == 0)
            return (int)i;
    return -1;
}

int stmt_cache_next(const struct stmt_cache *c)
{
    return c->count < STMT_CACHE_SLOTS ? (int)c->count : -1;
}

int stmt_cache_add(struct stmt_cache *c, const char *sql)
{
    int i = stmt_cache_next(c);
    if (i < 0)
        return -1;
    char *copy = strdup(sql);
    if (!copy)
        return -1;
    c->slot[i].hash = hash_text(sql);
    c->slot[i].sql = copy;
    c->count++;
    return i;
}

void stmt_cache_name(int index, char out[STMT_CACHE_NAME_LEN])
{
    snprintf(out, STMT_CACHE_NAME_LEN, "agora_s%d", index);
}
