// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The table-page pool of one page table.
 *
 * Every table page of a table comes from one contiguous reserved range of
 * host memory (the arena: an anonymous MAP_NORESERVE mapping, touched only
 * as pages are handed out).  A page's "physical address", the value table
 * entries hold and the dump prints, is phys_base + its offset in the arena,
 * so turning an entry back into a pointer is one addition (pt_host()) and
 * a walk costs what a pointer chase costs.  phys_base is either the arena's
 * own host address (entries hold real addresses) or a base the caller
 * chose (deterministic addresses, independent of where the arena landed).
 *
 * Bookkeeping ("struct page") lives in a separate array, meta[], so that
 * nothing a walker may still read is ever written by the free path: a
 * detached page keeps its contents, untouched, until it is handed out
 * again.  The free list is FIFO, so a freed page is reused as late as
 * possible; in an ASan build free pages are poisoned, so a walker that
 * touches a page after its grace period (a broken reclaim) is reported at
 * once rather than when the page happens to be reused.
 *
 * Locking: pool_lock (rank SIOMMU_RANK_PT_POOL, a leaf) protects the free
 * list, the bump index and the page counters.  It is taken only when a
 * table page is allocated (map) or freed (reclaim, a lost publication race,
 * destroy): never on a walk, never on unmap.
 *
 * Allocation failure injection: the arena, meta[] and each page allocation
 * consult siommu_should_fail() like every other allocation of the library.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "base/alloc.h"
#include "pgtable/pt_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define PT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PT_ASAN 1
#endif
#endif

#ifdef PT_ASAN
#include <sanitizer/asan_interface.h>
#define pt_poison(p, n)		ASAN_POISON_MEMORY_REGION(p, n)
#define pt_unpoison(p, n)	ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define pt_poison(p, n)		do { (void)(p); (void)(n); } while (0)
#define pt_unpoison(p, n)	do { (void)(p); (void)(n); } while (0)
#endif

int pt_pool_init(struct siommu_pt *pt, uint64_t nr_pages, uint64_t phys_base)
{
	uint64_t bytes = nr_pages << PT_PAGE_SHIFT;
	void *arena;

	if (siommu_should_fail())
		return -ENOMEM;
	arena = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena == MAP_FAILED)
		return -ENOMEM;
	pt->meta = siommu_calloc(nr_pages, sizeof(*pt->meta));
	if (!pt->meta) {
		munmap(arena, bytes);
		return -ENOMEM;
	}
	pt->arena = arena;
	pt->arena_bytes = bytes;
	pt->nr_pages = (uint32_t)nr_pages;
	pt->phys_base = phys_base ? phys_base : (uint64_t)(uintptr_t)arena;
	pt->pa_to_host = (uint64_t)(uintptr_t)arena - pt->phys_base;
	siommu_mutex_init(&pt->pool_lock, "pt->pool_lock", SIOMMU_RANK_PT_POOL);
	pt_poison(arena, bytes);
	return 0;
}

void pt_pool_fini(struct siommu_pt *pt)
{
	pt_unpoison(pt->arena, pt->arena_bytes);
	munmap(pt->arena, pt->arena_bytes);
	siommu_free(pt->meta);
	siommu_mutex_destroy(&pt->pool_lock);
}

uint64_t *pt_page_alloc(struct siommu_pt *pt)
{
	uint64_t *page;
	uint32_t idx;
	bool fresh;

	if (siommu_should_fail())
		return NULL;
	siommu_mutex_lock(&pt->pool_lock);
	if (pt->free_head) {
		idx = pt->free_head - 1;
		pt->free_head = pt->meta[idx].next;
		if (!pt->free_head)
			pt->free_tail = 0;
		fresh = false;
	} else if (pt->bump < pt->nr_pages) {
		idx = pt->bump++;
		fresh = true;
	} else {
		siommu_mutex_unlock(&pt->pool_lock);
		return NULL;
	}
	SIOMMU_CHECK(!pt->meta[idx].in_use);
	pt->meta[idx].in_use = 1;
	pt->meta[idx].next = 0;
	siommu_store_relaxed(&pt->pages_in_use, pt->pages_in_use + 1);
	if (pt->pages_in_use > pt->pages_peak)
		siommu_store_relaxed(&pt->pages_peak, pt->pages_in_use);
	siommu_mutex_unlock(&pt->pool_lock);

	page = pt_page_host(pt, idx);
	pt_unpoison(page, PT_PAGE_SIZE);
	/*
	 * A reused page still holds its old entries.  Zeroing it here is safe:
	 * it was freed after a grace period (or never published), and the
	 * pool lock orders that free before this write.
	 */
	if (!fresh)
		memset(page, 0, PT_PAGE_SIZE);
	return page;
}

void pt_page_free(struct siommu_pt *pt, uint64_t *page)
{
	uint32_t idx = pt_page_index(pt, page);

	SIOMMU_CHECK(idx < pt->nr_pages);
	pt_poison(page, PT_PAGE_SIZE);
	siommu_mutex_lock(&pt->pool_lock);
	if (SIOMMU_WARN_ON(!pt->meta[idx].in_use)) {
		siommu_mutex_unlock(&pt->pool_lock);
		return;		/* a double free: keep the list intact */
	}
	pt->meta[idx].in_use = 0;
	pt->meta[idx].next = 0;
	if (pt->free_tail)
		pt->meta[pt->free_tail - 1].next = idx + 1;
	else
		pt->free_head = idx + 1;
	pt->free_tail = idx + 1;
	siommu_store_relaxed(&pt->pages_in_use, pt->pages_in_use - 1);
	siommu_mutex_unlock(&pt->pool_lock);
}
