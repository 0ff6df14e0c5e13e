/* String id -> dense uint32 index. Open addressing with linear probing over
 * 16-byte slots; strings live in large arena blocks so a map of millions of
 * ids costs a few allocations.
 *
 * A short id (at most SHORT_MAX bytes: user and item codes nearly always are)
 * is stored in its slot itself, so a lookup that hits costs one cache line:
 * the slot is compared with the probe's image, and neither the arena nor the
 * index arrays are touched. That line is the whole cost of interning a row's
 * ids once the map outgrows the caches (ingest of millions of rows). A longer
 * id keeps its 64-bit hash in the slot and is compared with its string. */
#include "merx/idmap.h"
#include "util/hugealloc.h"
#include "util/idmap_rename.h"
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

#define SHORT_MAX 11
#define LONG_TAG 0xffu /* low byte of w0 of a long id (a short one holds its length) */
#define EMPTY UINT32_MAX

typedef struct {
  uint32_t index; /* EMPTY: free slot */
  uint32_t w0;    /* short: length byte + bytes 8..10; long: LONG_TAG + 24 bits of the hash */
  uint64_t w1;    /* short: bytes 0..7 (zero padded); long: the 64-bit hash */
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

/* The probe: what the slot of id holds, and where its search starts. */
typedef struct {
  uint32_t w0;
  uint64_t w1;
  uint64_t hash;
} probe;

/* Little-endian loads on any byte order (one instruction on x86 and arm64):
 * the overlapping loads below rely on byte k landing in bits 8k. */
static inline uint64_t load64(const unsigned char *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
         (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
         (uint64_t)p[7] << 56;
}

/* A multiply-xorshift finaliser over the 12 bytes of a short id's image
 * (splitmix64's constants); only the slot position depends on it, never
 * anything stored outside the process. */
static inline uint64_t short_hash(uint32_t w0, uint64_t w1) {
  uint64_t x = w1 * 0x9e3779b97f4a7c15ULL ^ (uint64_t)w0 * 0xc2b2ae3d27d4eb4fULL;
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 29;
  return x;
}

static inline uint32_t load32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A short id's image: w1 = bytes 0..7, w0 = length + bytes 8..10 (zero
 * padded). Built from loads inside [id, id + len) that overlap where the id
 * is shorter than the word, with no call to memcpy and no zeroed buffer:
 * this is most of the work of a lookup that hits. The image only ever meets
 * other images of this process; the length is w0's low byte. */
static inline void make_probe(const char *id, size_t len, probe *p) {
  const unsigned char *s = (const unsigned char *)id;
  if (len <= SHORT_MAX) {
    uint64_t a = 0;
    uint32_t b = 0;
    if (len >= 8) {
      a = load64(s);
      for (size_t k = 8; k < len; k++) b |= (uint32_t)s[k] << (8 * (k - 8));
    } else if (len >= 4) {
      a = (uint64_t)load32(s) | (uint64_t)load32(s + len - 4) << (8 * (len - 4));
    } else if (len > 0) {
      a = (uint64_t)s[0] | (uint64_t)s[len / 2] << (8 * (len / 2)) |
          (uint64_t)s[len - 1] << (8 * (len - 1));
    }
    p->w0 = (uint32_t)len | b << 8;
    p->w1 = a;
    p->hash = short_hash(p->w0, p->w1);
  } else {
    p->hash = mx_hash64(id, len, 0);
    p->w0 = LONG_TAG | (uint32_t)(p->hash >> 40) << 8;
    p->w1 = p->hash;
  }
}

static inline uint64_t slot_hash(const slot *s) {
  return (s->w0 & 0xffu) == LONG_TAG ? s->w1 : short_hash(s->w0, s->w1);
}

static inline int slot_matches(const mx_idmap *m, const slot *s, const probe *p, const char *id,
                               size_t len) {
  if (s->w0 != p->w0 || s->w1 != p->w1) return 0;
  if ((p->w0 & 0xffu) != LONG_TAG) return 1; /* the image is the id */
  return m->lens[s->index] == len && memcmp(m->names[s->index], id, len) == 0;
}

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
  for (size_t i = 0; i <= m->mask; i++) m->slots[i].index = EMPTY;
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
  for (size_t i = 0; i < ncap; i++) ns[i].index = EMPTY;
  for (size_t i = 0; i <= m->mask; i++) {
    if (m->slots[i].index == EMPTY) continue;
    size_t j = slot_hash(&m->slots[i]) & (ncap - 1);
    while (ns[j].index != EMPTY) j = (j + 1) & (ncap - 1);
    ns[j] = m->slots[i];
  }
  free(m->slots);
  m->slots = ns;
  m->mask = ncap - 1;
  return 0;
}

int64_t mx_idmap_find(const mx_idmap *m, const char *id, size_t len) {
  probe p;
  make_probe(id, len, &p);
  size_t j = p.hash & m->mask;
  for (;;) {
    const slot *s = &m->slots[j];
    if (s->index == EMPTY) return -1;
    if (slot_matches(m, s, &p, id, len)) return s->index;
    j = (j + 1) & m->mask;
  }
}

int64_t mx_idmap_intern(mx_idmap *m, const char *id, size_t len) {
  /* Keep the load factor at most 1/2 so probes stay short and a slot is
   * always free; growing first means a failed growth loses nothing. */
  if ((size_t)(m->count + 1) * 2 > m->mask + 1 && grow(m) != 0) return -1;
  probe p;
  make_probe(id, len, &p);
  size_t j = p.hash & m->mask;
  for (;;) {
    slot *s = &m->slots[j];
    if (s->index == EMPTY) break;
    if (slot_matches(m, s, &p, id, len)) return s->index;
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
  m->slots[j].w0 = p.w0;
  m->slots[j].w1 = p.w1;
  m->slots[j].index = idx;
  return idx;
}

const char *mx_idmap_name(const mx_idmap *m, uint32_t i) {
  return i < m->count ? m->names[i] : NULL;
}

uint32_t mx_idmap_size(const mx_idmap *m) { return m ? m->count : 0; }

/* The rename's big arrays (a table of millions of slots, the names' arena)
 * are new memory filled at once: on huge pages above 4 MB (hugealloc.h). */
#define RENAME_HUGE_MIN ((size_t)4 << 20)
/* An id of a rename waiting for its slot (mx__idmap_rename). */
typedef struct {
  probe p;
  uint32_t index;
} pending;
#define AHEAD 16

/* Put e into the new table ns (names and lens: the new names); -2 when an
 * earlier id has the same name. */
static int place(const mx_idmap *m, slot *ns, const char *const *names, const uint32_t *lens,
                 const pending *e, uint32_t *dup) {
  size_t j = e->p.hash & m->mask;
  for (;;) {
    slot *s = &ns[j];
    if (s->index == EMPTY) break;
    if (s->w0 == e->p.w0 && s->w1 == e->p.w1 &&
        ((e->p.w0 & 0xffu) != LONG_TAG ||
         (lens[s->index] == lens[e->index] &&
          memcmp(names[s->index], names[e->index], lens[e->index]) == 0))) {
      if (dup) *dup = e->index;
      return -2;
    }
    j = (j + 1) & m->mask;
  }
  ns[j].w0 = e->p.w0;
  ns[j].w1 = e->p.w1;
  ns[j].index = e->index;
  return 0;
}

/* mx__idmap_rename: new slots, names and one arena block beside the old,
 * swapped in at the end (so a failure leaves m as it was). The slots keep
 * m's capacity: it was sized for as many ids, so the load factor stays at
 * most 1/2 and no growth (a rehash of every slot) happens on the way. */
int mx__idmap_rename(mx_idmap *m, mx__idmap_renamer fn, void *ctx, uint32_t *dup) {
  uint32_t n = m->count;
  size_t cap = m->mask + 1;
  slot *ns = mx__alloc_huge(cap * sizeof *ns, RENAME_HUGE_MIN);
  const char **names = mx__alloc_huge((n ? n : 1) * sizeof *names, RENAME_HUGE_MIN);
  uint32_t *lens = mx__alloc_huge((n ? n : 1) * sizeof *lens, RENAME_HUGE_MIN);
  char **blocks = NULL;
  size_t nblocks = 0, blocks_cap = 0, used = 0, size = 0;
  pending q[AHEAD];
  int rc = -1, placed = 0;
  if (!ns || !names || !lens) goto out;
  for (size_t i = 0; i < cap; i++) ns[i].index = EMPTY;
  for (uint32_t i = 0; i < n; i++) {
    size_t len;
    const char *to = fn(ctx, m->names[i], m->lens[i], &len);
    if (!to || len >= UINT32_MAX) goto out;
    if (used + len + 1 > size) {
      /* a block for the names still to come at this length: pseudonyms,
       * all of one length, take one block of exactly their size */
      size_t bs = (size_t)(n - i) * (len + 1);
      if (bs < ARENA_FIRST) bs = ARENA_FIRST;
      if (nblocks == blocks_cap) {
        size_t nc = blocks_cap ? 2 * blocks_cap : 4;
        char **nb = realloc(blocks, nc * sizeof *nb);
        if (!nb) goto out;
        blocks = nb;
        blocks_cap = nc;
      }
      if (!(blocks[nblocks] = mx__alloc_huge(bs, RENAME_HUGE_MIN))) goto out;
      nblocks++;
      used = 0;
      size = bs;
    }
    char *copy = blocks[nblocks - 1] + used;
    memcpy(copy, to, len);
    copy[len] = '\0';
    used += len + 1;
    names[i] = copy;
    lens[i] = (uint32_t)len;
    /* this id's slot is fetched now and written AHEAD ids later, so the
     * cache (and TLB) miss of a table of millions of slots overlaps the
     * renamer's work on the ids between (an HMAC each, for pseudonyms) */
    pending *e = &q[i % AHEAD];
    make_probe(copy, len, &e->p);
    e->index = i;
    __builtin_prefetch(&ns[e->p.hash & m->mask], 1);
    if (i + 1 >= AHEAD && (placed = place(m, ns, names, lens, &q[(i + 1) % AHEAD], dup)) != 0)
      goto out;
  }
  /* the last AHEAD - 1 ids (or all, in a smaller map), oldest first */
  for (uint32_t k = n >= AHEAD - 1 ? n - (AHEAD - 1) : 0; k < n; k++)
    if ((placed = place(m, ns, names, lens, &q[k % AHEAD], dup)) != 0) goto out;
  /* swap: the new state in, the old one (names and all) out */
  {
    slot *os = m->slots;
    const char **on = m->names;
    uint32_t *ol = m->lens;
    char **ob = m->blocks;
    size_t onb = m->nblocks;
    m->slots = ns;
    m->names = names;
    m->lens = lens;
    m->names_cap = n ? n : 1;
    m->blocks = blocks;
    m->nblocks = nblocks;
    m->blocks_cap = blocks_cap;
    m->block_used = used;
    m->block_size = size;
    ns = os;
    names = on;
    lens = ol;
    blocks = ob;
    nblocks = onb;
    rc = 0;
  }
out:
  for (size_t b = 0; b < nblocks; b++) free(blocks[b]);
  free(blocks);
  free(names);
  free(lens);
  free(ns);
  return placed ? placed : rc;
}
