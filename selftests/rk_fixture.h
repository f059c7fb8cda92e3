/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every test of the kselftest programs shares (include after
 * kselftest_harness.h and rk_test.h): a timeout of its own, and a heap
 * that is empty before it and checked empty after it. The check runs in
 * the harness's parent once the test's process, and with it every fd and
 * mapping it held, is gone; it first frees whatever the test left in the
 * test client's slots, so a failing test leaves nothing to the next.
 *
 * RK_TEST(name) is a test of the fixture "rk" with the usual timeout;
 * tests with a fixture of their own use TEST_F_TIMEOUT(..., RK_TIMEOUT)
 * and call rk_fixture_check() from a FIXTURE_TEARDOWN_PARENT.
 */
#ifndef RK_FIXTURE_H
#define RK_FIXTURE_H

/*
 * The usual timeout: the longest of these tests takes about 10 s in the
 * KASAN guest beside a busy host; 300 s leaves a thirtyfold margin. Tests
 * that take longer state their own.
 */
#define RK_TIMEOUT	300

static inline void rk_client_free_all(void)
{
	static const char *const devs[] = { NPU, VENC, CLIENT "ffa00000.rkisp" };
	unsigned int d, slot;

	for (d = 0; d < 3; d++)
		for (slot = 0; slot < 64; slot++)
			client(devs[d], "free %u", slot);
}

static inline void rk_fixture_check(struct __test_metadata *_metadata)
{
	rk_client_free_all();
	EXPECT_EQ(0LL, rk_info_total()) TH_LOG("buffers left after the test");
	EXPECT_EQ(0UL, rk_cma_used_pages()) TH_LOG("pages of the region left after the test");
}

FIXTURE(rk) {
};

FIXTURE_SETUP(rk)
{
	ASSERT_EQ(0LL, rk_info_total()) TH_LOG("the heap is not empty at the start");
}

FIXTURE_TEARDOWN_PARENT(rk)
{
	rk_fixture_check(_metadata);
}

#define RK_TEST(name)	TEST_F_TIMEOUT(rk, name, RK_TIMEOUT)

#endif /* RK_FIXTURE_H */
