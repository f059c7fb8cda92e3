// SPDX-License-Identifier: GPL-2.0
/*
 * What the importing device itself reads and writes, for cached and
 * uncached buffers: the test client's DMA engine (dwrite, dread) reaches
 * the memory at the DMA addresses of its mapping, which is a swiotlb slot
 * where the mapping bounced (a 32-bit device and a region above 4 GiB, or
 * swiotlb=force). Every sync the dma-buf calls ask for must then copy:
 *
 *  - the CPU writes between DMA_BUF_IOCTL_SYNC START and END: the device
 *    reads exactly those bytes;
 *  - the device writes: after SYNC START the CPU reads those bytes, also
 *    once the device has unmapped the buffer;
 *  - buffers and contiguous pages that no device imports hold no swiotlb
 *    slot, however long they live.
 *
 * In a guest whose importers do not bounce these hold trivially; in the
 * bounce shapes they are what keeps data from being lost.
 */
#include <sys/mman.h>
#include <linux/dma-buf.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

#define SWIOTLB_USED	"/sys/kernel/debug/swiotlb/io_tlb_used"

static const size_t sizes[] = { RK_PAGE, 64 << 10, 1 << 20 };
#define NR_SIZES	(sizeof(sizes) / sizeof(sizes[0]))

FIXTURE(bounce) {
	unsigned char *p;
	size_t len;
	int fd;
};

FIXTURE_VARIANT(bounce) {
	uint64_t heap_flags;
};

FIXTURE_VARIANT_ADD(bounce, cached) {
	.heap_flags = 0,
};

FIXTURE_VARIANT_ADD(bounce, uncached) {
	.heap_flags = RK_DMA_HEAP_UNCACHED,
};

FIXTURE_SETUP(bounce)
{
	self->fd = -1;
	ASSERT_EQ(0LL, rk_info_total()) TH_LOG("the heap is not empty at the start");
}

FIXTURE_TEARDOWN_PARENT(bounce)
{
	rk_fixture_check(_metadata);
}

static int buf_sync(int fd, __u64 flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	return ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) ? -errno : 0;
}

/*
 * Allocate the variant's buffer of @len bytes into self, map it, and have
 * the client's NPU import it into slot 0 and attach (which maps it for
 * the NPU). Returns 0, or -1 with the failure logged.
 */
static int setup_import(struct __test_metadata *_metadata,
			FIXTURE_DATA(bounce) *self, uint64_t flags, size_t len)
{
	int ret;

	self->len = len;
	self->fd = rk_alloc_flags(len, flags);
	if (self->fd < 0) {
		TH_LOG("allocating %zu bytes (heap_flags 0x%llx): %s", len,
		       (unsigned long long)flags, strerror(-self->fd));
		return -1;
	}
	self->p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->fd, 0);
	if (self->p == MAP_FAILED) {
		TH_LOG("mmap of %zu bytes: %s", len, strerror(errno));
		return -1;
	}
	ret = client(NPU, "import 0 %d", self->fd);
	if (!ret)
		ret = client(NPU, "attach 0");
	if (ret) {
		TH_LOG("import and attach of %zu bytes: %s", len, strerror(-ret));
		return -1;
	}
	return 0;
}

static void teardown_import(FIXTURE_DATA(bounce) *self)
{
	client(NPU, "free 0");
	munmap(self->p, self->len);
	close(self->fd);
	self->fd = -1;
}

/* the 32-bit FNV-1a hash, as the client's dread computes it */
static uint32_t fnv1a(const unsigned char *p, size_t len)
{
	uint32_t h = 0x811c9dc5;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x01000193;
	return h;
}

/*
 * (a) The CPU writes a pattern (a different one per size, changing within
 * each page and from page to page) between SYNC START|WRITE and END|WRITE:
 * the device reads exactly that pattern, hash and first byte.
 */
TEST_F_TIMEOUT(bounce, cpu_writes_reach_the_device, RK_TIMEOUT)
{
	unsigned long long first;
	unsigned int s;
	uint32_t want;
	size_t i;

	for (s = 0; s < NR_SIZES; s++) {
		ASSERT_EQ(0, setup_import(_metadata, self,
					  variant->heap_flags, sizes[s]));
		ASSERT_EQ(0, buf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE));
		for (i = 0; i < self->len; i++)
			self->p[i] = i * 131 + (i >> 12) * 7 + s * 29 + 1;
		ASSERT_EQ(0, buf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE));
		want = fnv1a(self->p, self->len);

		ASSERT_EQ(0, client(NPU, "dread 0"));
		EXPECT_EQ(self->len, client_result(NPU, "len"));
		first = client_result(NPU, "first");
		EXPECT_EQ(want, client_result(NPU, "fnv"))
			TH_LOG("%zu bytes: the device reads other bytes than the CPU wrote (first 0x%02llx, written 0x%02x; %llu bytes equal to it)",
			       self->len, first, self->p[0],
			       client_result(NPU, "same"));
		teardown_import(self);
	}
}

/*
 * (b) The device writes a byte over the whole buffer; after SYNC
 * START|READ the CPU reads that byte everywhere. Twice, with two bytes,
 * so that what the first round left cannot pass for the second.
 */
TEST_F_TIMEOUT(bounce, device_writes_reach_the_cpu, RK_TIMEOUT)
{
	static const int bytes[] = { 0xa7, 0x3c };
	unsigned int s, r;
	size_t bad;

	for (s = 0; s < NR_SIZES; s++) {
		ASSERT_EQ(0, setup_import(_metadata, self,
					  variant->heap_flags, sizes[s]));
		for (r = 0; r < 2; r++) {
			ASSERT_EQ(0, client(NPU, "dwrite 0 %d", bytes[r]));
			ASSERT_EQ(0, buf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
			bad = rk_not_byte(self->p, self->len, bytes[r]);
			EXPECT_EQ(0U, bad)
				TH_LOG("%zu bytes, device wrote 0x%02x: the CPU reads %zu other bytes (first 0x%02x)",
				       self->len, bytes[r], bad, self->p[0]);
			ASSERT_EQ(0, buf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
		}
		teardown_import(self);
	}
}

/*
 * (c) The device writes, then unmaps and detaches; the CPU, with no
 * device left, syncs and reads what the device wrote.
 */
TEST_F_TIMEOUT(bounce, device_writes_survive_the_unmap, RK_TIMEOUT)
{
	unsigned int s;
	size_t bad;

	for (s = 0; s < NR_SIZES; s++) {
		ASSERT_EQ(0, setup_import(_metadata, self,
					  variant->heap_flags, sizes[s]));
		ASSERT_EQ(0, client(NPU, "dwrite 0 %d", 0x5e));
		ASSERT_EQ(0, client(NPU, "detach 0"));
		ASSERT_EQ(0, buf_sync(self->fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
		bad = rk_not_byte(self->p, self->len, 0x5e);
		EXPECT_EQ(0U, bad)
			TH_LOG("%zu bytes, device wrote 0x5e and unmapped: the CPU reads %zu other bytes (first 0x%02x)",
			       self->len, bad, self->p[0]);
		ASSERT_EQ(0, buf_sync(self->fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
		teardown_import(self);
	}
}

/*
 * (d) Buffers of 4 KiB to 8 MiB that no device imports, mapped, written
 * and synced, and contiguous pages of a driver, hold no swiotlb slot
 * while they live: the slots are the whole system's, and the heap's own
 * bookkeeping has no reason to bounce.
 */
TEST_F_TIMEOUT(bounce, idle_buffers_hold_no_swiotlb_slot, RK_TIMEOUT)
{
	static const size_t bufs[] = {
		RK_PAGE, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20,
		8 << 20,
	};
	static const size_t contig[] = { RK_PAGE, 64 << 10, 1 << 20, 2 << 20 };
	const unsigned int nbufs = sizeof(bufs) / sizeof(bufs[0]);
	const unsigned int ncontig = sizeof(contig) / sizeof(contig[0]);
	unsigned long before, held, after;
	unsigned char *maps[7];
	int fds[7], ret;
	unsigned int i;

	if (access(SWIOTLB_USED, R_OK))
		SKIP(return, "no %s (swiotlb or debugfs off)", SWIOTLB_USED);
	before = rk_read_ulong(SWIOTLB_USED);
	ASSERT_NE(~0UL, before);

	for (i = 0; i < nbufs; i++) {
		fds[i] = rk_alloc_flags(bufs[i], variant->heap_flags);
		ASSERT_LE(0, fds[i])
			TH_LOG("allocating %zu bytes: %s", bufs[i], strerror(-fds[i]));
		maps[i] = mmap(NULL, bufs[i], PROT_READ | PROT_WRITE,
			       MAP_SHARED, fds[i], 0);
		ASSERT_TRUE(maps[i] != MAP_FAILED);
		ASSERT_EQ(0, buf_sync(fds[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW));
		EXPECT_EQ(0U, rk_not_byte(maps[i], bufs[i], 0)) TH_LOG("%zu bytes", bufs[i]);
		memset(maps[i], 0x6b, bufs[i]);
		ASSERT_EQ(0, buf_sync(fds[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW));
	}
	for (i = 0; i < ncontig; i++) {
		ret = client(VENC, "contig %u %zu", i, contig[i]);
		ASSERT_EQ(0, ret)
			TH_LOG("contiguous pages of %zu bytes: %s", contig[i], strerror(-ret));
	}

	held = rk_read_ulong(SWIOTLB_USED);
	EXPECT_EQ(before, held)
		TH_LOG("swiotlb slots in use: %lu before, %lu while the buffers live",
		       before, held);
	/* the CPU still reads what it wrote after a sync for the CPU */
	for (i = 0; i < nbufs; i++) {
		ASSERT_EQ(0, buf_sync(fds[i], DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ));
		EXPECT_EQ(0U, rk_not_byte(maps[i], bufs[i], 0x6b))
			TH_LOG("%zu bytes: a sync for the CPU changed the buffer", bufs[i]);
		ASSERT_EQ(0, buf_sync(fds[i], DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ));
	}

	for (i = 0; i < ncontig; i++)
		ASSERT_EQ(0, client(VENC, "free %u", i));
	for (i = 0; i < nbufs; i++) {
		munmap(maps[i], bufs[i]);
		close(fds[i]);
	}
	after = rk_read_ulong(SWIOTLB_USED);
	EXPECT_EQ(before, after)
		TH_LOG("swiotlb slots in use: %lu before, %lu after the buffers are gone",
		       before, after);
}

TEST_HARNESS_MAIN
