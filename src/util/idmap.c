/* String id -> dense uint32 index. Open addressing with linear probing over
 * (hash, index) slots; strings live in large arena blocks so a map of
 * millions of ids costs a few allocations. */
#include "merx/idmap.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  uint64_t hash;
  uint32_t index; /* UINT32_MAX: empty */
} slot;

struct mx_idmap {
  slot *slots;
  size_t mask;      /* capacity - 1 */
  uint32_t count;
  const char **names; /* index -> string */
  uint32_t *lens;
  size_t names_cap;
  char **blocks;    /* arena */
  size_t nblocks, blocks_cap;
  size_t block_used, block_size;
};

/* Name arena blocks start small and double up to ARENA_BLOCK, so a map of a
 * few ids (a test file, a fuzz input) does not take a megabyte. */
#define ARENA_FIRST (1u << 12)
#define ARENA_BLOCK (1u << 20)

mx_idmap *mx_idmap_create(void) {
  mx_idmap *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  m->mask = 1023;
  m->slots = malloc((m->mask + 1) * sizeof *m->slots);
  if (!m->slots) {
    free(m);
    return NULL;
  }
  for (size_t i = 0; i <= m->mask; i++) m->slots[i].index = UINT32_MAX;
  return m;
}

void mx_idmap_free(mx_idmap *m) {
  if (!m) return;
  for (size_t i = 0; i < m->nblocks; i++) free(m->blocks[i]);
  free(m->blocks);
  free(m->names);
  free(m->lens);
  free(m->slots);
  free(m);
}

static char *arena_copy(mx_idmap *m, const char *s, size_t len) {
  if (m->nblocks == 0 || m->block_used + len + 1 > m->block_size) {
    size_t bs = m->nblocks < 8 ? (size_t)ARENA_FIRST << m->nblocks : ARENA_BLOCK;
    if (bs < len + 1) bs = len + 1;
    if (m->nblocks == m->blocks_cap) {
      size_t nc = m->blocks_cap ? m->blocks_cap * 2 : 8;
      char **nb = realloc(m->blocks, nc * sizeof *nb);
      if (!nb) return NULL;
      m->blocks = nb;
      m->blocks_cap = nc;
    }
    char *b = malloc(bs);
    if (!b) return NULL;
    m->blocks[m->nblocks++] = b;
    m->block_used = 0;
    m->block_size = bs;
  }
  char *dst = m->blocks[m->nblocks - 1] + m->block_used;
  memcpy(dst, s, len);
  dst[len] = '\0';
  m->block_used += len + 1;
  return dst;
}

static int grow(mx_idmap *m) {
  size_t ncap = (m->mask + 1) * 2;
  slot *ns = malloc(ncap * sizeof *ns);
  if (!ns) return -1;
  for (size_t i = 0; i < ncap; i++) ns[i].index = UINT32_MAX;
  for (size_t i = 0; i <= m->mask; i++) {
    if (m->slots[i].index == UINT32_MAX) continue;
    size_t j = m->slots[i].hash & (ncap - 1);
    while (ns[j].index != UINT32_MAX) j = (j + 1) & (ncap - 1);
    ns[j] = m->slots[i];
  }
  free(m->slots);
  m->slots = ns;
  m->mask = ncap - 1;
  return 0;
}

int64_t mx_idmap_find(const mx_idmap *m, const char *id, size_t len) {
  uint64_t h = mx_hash64(id, len, 0);
  size_t j = h & m->mask;
  for (;;) {
    const slot *s = &m->slots[j];
    if (s->index == UINT32_MAX) return -1;
    if (s->hash == h && m->lens[s->index] == len && memcmp(m->names[s->index], id, len) == 0)
      return s->index;
    j = (j + 1) & m->mask;
  }
}

int64_t mx_idmap_intern(mx_idmap *m, const char *id, size_t len) {
  /* Keep the load factor at most 1/2 so probes stay short and a slot is
   * always free; growing first means a failed growth loses nothing. */
  if ((size_t)(m->count + 1) * 2 > m->mask + 1 && grow(m) != 0) return -1;
  uint64_t h = mx_hash64(id, len, 0);
  size_t j = h & m->mask;
  for (;;) {
    slot *s = &m->slots[j];
    if (s->index == UINT32_MAX) break;
    if (s->hash == h && m->lens[s->index] == len && memcmp(m->names[s->index], id, len) == 0)
      return s->index;
    j = (j + 1) & m->mask;
  }
  if (m->count == UINT32_MAX - 1) return -1;
  if (m->count == m->names_cap) {
    size_t nc = m->names_cap ? m->names_cap * 2 : 1024;
    const char **nn = realloc(m->names, nc * sizeof *nn);
    if (!nn) return -1;
    m->names = nn;
    uint32_t *nl = realloc(m->lens, nc * sizeof *nl);
    if (!nl) return -1;
    m->lens = nl;
    m->names_cap = nc;
  }
  char *copy = arena_copy(m, id, len);
  if (!copy) return -1;
  uint32_t idx = m->count++;
  m->names[idx] = copy;
  m->lens[idx] = (uint32_t)len;
  m->slots[j].hash = h;
  m->slots[j].index = idx;
  return idx;
}

const char *mx_idmap_name(const mx_idmap *m, uint32_t i) {
  return i < m->count ? m->names[i] : NULL;
}

uint32_t mx_idmap_size(const mx_idmap *m) { return m ? m->count : 0; }
