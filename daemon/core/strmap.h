/* strmap — a small open-addressing hash table from strings to pointers, used to look up
 * words (lexicon, vocabulary, typo index). Keys are copied; values are borrowed.
 * Threads: filled by one thread while loading, then read by any number at once. */
#ifndef DIALOGD_STRMAP_H
#define DIALOGD_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
/* Frees the map and its key copies (not the values) and sets *map to NULL. */
void strmap_free(struct strmap **map);
/* Sets key (n bytes) to value, replacing any previous value. */
void strmap_put(struct strmap *map, const char *key, size_t n, void *value);
/* Returns the value of key (n bytes) or NULL. */
void *strmap_get(const struct strmap *map, const char *key, size_t n);
size_t strmap_count(const struct strmap *map);

#endif
