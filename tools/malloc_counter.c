/* An LD_PRELOAD shim for tools/tls_heap.py: counts the bytes malloc has handed out and not
   taken back (and their peak) in the file named by $MALLOC_COUNTER_FILE, two int64 that the
   process itself (tools/tls_heap_app.py) reads and resets. Single-threaded use only. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static long long unmapped[2];
static volatile long long *ctr = unmapped;  /* [0] in use, [1] peak */

__attribute__((constructor)) static void map_counter(void) {
    const char *path = getenv("MALLOC_COUNTER_FILE");
    if (path == NULL)
        return;
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    if (fd < 0)
        return;
    if (ftruncate(fd, 16) == 0) {
        void *m = mmap(NULL, 16, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED)
            ctr = m;
    }
    close(fd);
}

static void *add(void *p) {
    if (p != NULL) {
        ctr[0] += malloc_usable_size(p);
        if (ctr[0] > ctr[1])
            ctr[1] = ctr[0];
    }
    return p;
}

static void sub(void *p) {
    if (p != NULL)
        ctr[0] -= malloc_usable_size(p);
}

void *malloc(size_t n) { return add(__libc_malloc(n)); }
void *calloc(size_t a, size_t b) { return add(__libc_calloc(a, b)); }
void free(void *p) { sub(p); __libc_free(p); }
void *memalign(size_t a, size_t n) { return add(__libc_memalign(a, n)); }
void *aligned_alloc(size_t a, size_t n) { return add(__libc_memalign(a, n)); }

int posix_memalign(void **out, size_t a, size_t n) {
    void *p = add(__libc_memalign(a, n));
    if (p == NULL)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}

void *realloc(void *q, size_t n) {
    size_t old = q != NULL ? malloc_usable_size(q) : 0;
    void *p = __libc_realloc(q, n);
    if (p != NULL || n == 0) {
        ctr[0] -= old;
        add(p);
    }
    return p;
}
