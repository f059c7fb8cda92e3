// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's sleeps really sleep: sleep(), usleep(), nanosleep() and
 * clock_nanosleep() succeed and CLOCK_MONOTONIC has advanced by at least
 * what was asked. Tests of the suite wait this way (for a child to hold
 * its buffers, for kmemleak's objects to age), and a wait that returns at
 * once lets them pass without having waited. On ARM32 the system calls
 * behind them are also made directly, in their 32-bit-time and 64-bit-time
 * forms: armhf glibc makes the 32-bit ones whenever the value fits, and a
 * kernel without COMPAT_32BIT_TIME fails them with ENOSYS, which sleep()
 * takes for an interrupted sleep and returns at once.
 */
#include <sys/syscall.h>
#include <time.h>
#include <linux/futex.h>
#include "kselftest_harness.h"

/* nanoseconds of CLOCK_MONOTONIC */
static long long now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return -1;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define MS	1000000LL

TEST(sleep_sleeps)
{
	long long t0 = now_ns(), slept;

	ASSERT_LE(0, t0);
	EXPECT_EQ(0U, sleep(1)) TH_LOG("sleep(1): %s", strerror(errno));
	slept = now_ns() - t0;
	EXPECT_LE(1000 * MS, slept) TH_LOG("sleep(1) took %lld ms", slept / MS);
}

TEST(usleep_sleeps)
{
	long long t0 = now_ns(), slept;

	EXPECT_EQ(0, usleep(500000)) TH_LOG("usleep: %s", strerror(errno));
	slept = now_ns() - t0;
	EXPECT_LE(500 * MS, slept) TH_LOG("usleep(500000) took %lld ms", slept / MS);
}

TEST(nanosleep_sleeps)
{
	struct timespec ts = { .tv_sec = 1, .tv_nsec = 250 * MS }, rem;
	long long t0 = now_ns(), slept;

	EXPECT_EQ(0, nanosleep(&ts, &rem)) TH_LOG("nanosleep: %s", strerror(errno));
	slept = now_ns() - t0;
	EXPECT_LE(1250 * MS, slept) TH_LOG("nanosleep(1.25 s) took %lld ms", slept / MS);
}

/* until an absolute time of CLOCK_MONOTONIC, half a second away */
TEST(clock_nanosleep_until)
{
	long long t0 = now_ns(), until = t0 + 500 * MS, t1;
	struct timespec ts = {
		.tv_sec = until / 1000000000LL, .tv_nsec = until % 1000000000LL,
	};
	int ret;

	ret = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	EXPECT_EQ(0, ret) TH_LOG("clock_nanosleep: %s", strerror(ret));
	t1 = now_ns();
	EXPECT_LE(until, t1) TH_LOG("woke %lld ms early", (until - t1) / MS);
}

/*
 * The kernel's own forms of clock_nanosleep and futex on a 32-bit
 * architecture, made directly whatever glibc would choose: the 64-bit-time
 * ones always exist, the 32-bit-time ones (what armhf glibc calls when the
 * time fits in 32 bits) only with COMPAT_32BIT_TIME.
 */
#if defined(__NR_clock_nanosleep_time64) && defined(__NR_futex_time64)
struct time32 {
	int32_t tv_sec, tv_nsec;
};

struct time64 {
	int64_t tv_sec, tv_nsec;
};

TEST(time32_and_time64_system_calls)
{
	struct time32 t32 = { .tv_nsec = 200 * MS };
	struct time64 t64 = { .tv_nsec = 200 * MS };
	long long t0, slept;
	int word = 0;

	t0 = now_ns();
	EXPECT_EQ(0, syscall(__NR_clock_nanosleep_time64, CLOCK_MONOTONIC, 0,
			     &t64, NULL))
		TH_LOG("clock_nanosleep_time64: %s", strerror(errno));
	slept = now_ns() - t0;
	EXPECT_LE(200 * MS, slept) TH_LOG("clock_nanosleep_time64 took %lld ms", slept / MS);

	t0 = now_ns();
	EXPECT_EQ(0, syscall(__NR_clock_nanosleep, CLOCK_MONOTONIC, 0, &t32,
			     NULL))
		TH_LOG("clock_nanosleep (32-bit time): %s%s", strerror(errno),
		       errno == ENOSYS ? ": a kernel without CONFIG_COMPAT_32BIT_TIME" : "");
	slept = now_ns() - t0;
	EXPECT_LE(200 * MS, slept) TH_LOG("clock_nanosleep (32-bit time) took %lld ms", slept / MS);

	/* a wait on a word that has changed: EAGAIN, not ENOSYS */
	EXPECT_EQ(-1, syscall(__NR_futex, &word, FUTEX_WAIT_PRIVATE, 1, &t32,
			      NULL, 0));
	EXPECT_EQ(EAGAIN, errno)
		TH_LOG("futex (32-bit time): %s%s", strerror(errno),
		       errno == ENOSYS ? ": a kernel without CONFIG_COMPAT_32BIT_TIME" : "");
	EXPECT_EQ(-1, syscall(__NR_futex_time64, &word, FUTEX_WAIT_PRIVATE, 1,
			      &t64, NULL, 0));
	EXPECT_EQ(EAGAIN, errno) TH_LOG("futex_time64: %s", strerror(errno));
}
#else
TEST(time32_and_time64_system_calls)
{
	SKIP(return, "a 64-bit architecture: one form of each call");
}
#endif

TEST_HARNESS_MAIN
