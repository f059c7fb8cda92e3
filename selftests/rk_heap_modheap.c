// SPDX-License-Identifier: GPL-2.0
/*
 * A heap added by another module (rk_dma_heap_test_heap.ko, as a vendor
 * driver adds one with rk_dma_heap_add()), in both unload orders: that
 * module first, which takes its heap along (its node goes, an open file
 * of the node refuses further allocations, nothing runs its code), or
 * rk_dma_heap first, which is refused while the other module is loaded.
 * A buffer of the heap holds its module.
 */
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

#define TEST_HEAP_KO	"/lib/modules/rk/rk_dma_heap_test_heap.ko"
#define TEST_HEAP_NODE	"/dev/rk_dma_heap/rk-test-heap"

static int sh(const char *cmd)
{
	int status = system(cmd);

	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* a buffer of @len bytes of the heap behind @node: mapped, written, read */
static int use_heap(int node, size_t len)
{
	unsigned char *p;
	size_t i;
	int fd;

	fd = rk_alloc(node, len);
	if (fd < 0)
		return fd;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	for (i = 0; i < len; i++)
		p[i] = i * 3;
	for (i = 0; i < len && p[i] == (unsigned char)(i * 3); i++)
		;
	munmap(p, len);
	close(fd);
	return i == len ? 0 : -EIO;
}

RK_TEST(heap_goes_with_the_module_that_added_it)
{
	unsigned char *p;
	int node, fd;

	if (access(TEST_HEAP_KO, F_OK))
		SKIP(return, "no %s", TEST_HEAP_KO);
	ASSERT_EQ(0, sh("insmod " TEST_HEAP_KO));
	node = open(TEST_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, node) TH_LOG("%s: %s", TEST_HEAP_NODE, strerror(errno));
	EXPECT_EQ(0, use_heap(node, 64 << 10));

	/* a live buffer, mapped, holds the module that made it */
	fd = rk_alloc(node, 16 << 10);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 16 << 10, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	close(fd);
	EXPECT_NE(0, sh("rmmod rk_dma_heap_test_heap 2>/dev/null"));
	p[0] = 1;
	munmap(p, 16 << 10);

	/* then it goes, and its heap with it; the open node stays harmless */
	ASSERT_EQ(0, sh("rmmod rk_dma_heap_test_heap"));
	EXPECT_NE(0, access(TEST_HEAP_NODE, F_OK));
	EXPECT_EQ(-ENODEV, rk_alloc(node, 4096));
	close(node);
	EXPECT_EQ(0, sh("dmesg | grep -q 'rk_dma_heap: rk-test-heap: removed with module rk_dma_heap_test_heap, which added it$'"));
	EXPECT_EQ(0, sh("! grep -q rk-test-heap /proc/rk_dma_heap/rk-dma-heap-usage"));

	/* loaded again, it adds its heap again */
	ASSERT_EQ(0, sh("insmod " TEST_HEAP_KO));
	node = open(TEST_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, node);
	EXPECT_EQ(0, use_heap(node, 4096));
	close(node);
	EXPECT_EQ(0, sh("rmmod rk_dma_heap_test_heap"));
}

RK_TEST(rk_dma_heap_stays_while_a_module_it_serves_is_loaded)
{
	int node;

	if (access(TEST_HEAP_KO, F_OK))
		SKIP(return, "no %s", TEST_HEAP_KO);
	ASSERT_EQ(0, sh("insmod " TEST_HEAP_KO));
	EXPECT_NE(0, sh("rmmod rk_dma_heap 2>/dev/null"));
	EXPECT_EQ(0, access(RK_HEAP_NODE, F_OK));
	node = open(TEST_HEAP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, node);
	EXPECT_EQ(0, use_heap(node, 8192));
	close(node);
	EXPECT_EQ(0, sh("rmmod rk_dma_heap_test_heap"));
	EXPECT_NE(0, access(TEST_HEAP_NODE, F_OK));
}

TEST_HARNESS_MAIN
