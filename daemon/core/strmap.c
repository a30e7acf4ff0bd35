/* strmap — open addressing with linear probing, FNV-1a hashing, load factor under 1/2. */
#include "autoconf.h"
#include "core/strmap.h"
#include "core/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct strmap_slot {
	char *key;      /* owned copy, NUL-terminated; NULL when the slot is empty */
	size_t len;
	uint32_t hash;
	void *value;    /* borrowed */
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap;     /* power of two */
	size_t count;
};

static uint32_t
hash_bytes(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

struct strmap *
strmap_new(void)
{
	struct strmap *map = xcalloc(1, sizeof(*map));
	map->cap = 64;
	map->slots = xcalloc(map->cap, sizeof(*map->slots));
	return map;
}

void
strmap_free(struct strmap **mapp)
{
	struct strmap *map = *mapp;
	if (map == NULL)
		return;
	for (size_t i = 0; i < map->cap; i++)
		free(map->slots[i].key);
	free(map->slots);
	free(map);
	*mapp = NULL;
}

static struct strmap_slot *
find_slot(struct strmap_slot *slots, size_t cap, const char *key, size_t n, uint32_t h)
{
	size_t i = h & (cap - 1);
	for (;;) {
		struct strmap_slot *s = &slots[i];
		if (s->key == NULL || (s->hash == h && s->len == n && memcmp(s->key, key, n) == 0))
			return s;
		i = (i + 1) & (cap - 1);
	}
}

static void
grow(struct strmap *map)
{
	size_t cap = map->cap * 2;
	struct strmap_slot *slots = xcalloc(cap, sizeof(*slots));
	for (size_t i = 0; i < map->cap; i++) {
		struct strmap_slot *old = &map->slots[i];
		if (old->key != NULL)
			*find_slot(slots, cap, old->key, old->len, old->hash) = *old;
	}
	free(map->slots);
	map->slots = slots;
	map->cap = cap;
}

void
strmap_put(struct strmap *map, const char *key, size_t n, void *value)
{
	if ((map->count + 1) * 2 > map->cap)
		grow(map);
	uint32_t h = hash_bytes(key, n);
	struct strmap_slot *s = find_slot(map->slots, map->cap, key, n, h);
	if (s->key == NULL) {
		s->key = xstrndup(key, n);
		s->len = n;
		s->hash = h;
		map->count++;
	}
	s->value = value;
}

void *
strmap_get(const struct strmap *map, const char *key, size_t n)
{
	const struct strmap_slot *s = find_slot(map->slots, map->cap, key, n, hash_bytes(key, n));
	return s->key ? s->value : NULL;
}

size_t
strmap_count(const struct strmap *map)
{
	return map->count;
}
