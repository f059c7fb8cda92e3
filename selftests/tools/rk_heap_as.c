// SPDX-License-Identifier: GPL-2.0
/*
 * rk_heap_as: what a program of a normal user can do with the heap. As user
 * UID, group GID and the supplementary GROUPS (comma-separated, "-" for
 * none), open /dev/rk_dma_heap/rk-dma-heap-cma as mpp does (O_RDONLY |
 * O_CLOEXEC), allocate 64 KiB, map the buffer, write a pattern through the
 * mapping and read it back. Prints "mapped 65536", or the step that failed
 * and its errno's name ("open EACCES"). With NODE, that heap's node
 * instead; with "hold", the buffer is kept until standard input ends.
 * Usage: rk_heap_as UID GID GROUPS [NODE [hold]]
 */
#include <grp.h>
#include <stdbool.h>
#include <sys/mman.h>
#include "../rk_test.h"

#define LEN	(64 << 10)

static int fail(const char *step, int err)
{
	printf("%s %s\n", step, strerrorname_np(err));
	return 1;
}

static int drop_to(char **argv)
{
	gid_t groups[16];
	int n = 0;
	char *s, *save = NULL;

	if (strcmp(argv[3], "-")) {
		for (s = strtok_r(argv[3], ",", &save); s && n < 16;
		     s = strtok_r(NULL, ",", &save))
			groups[n++] = strtoul(s, NULL, 0);
	}
	if (setgroups(n, groups) || setgid(strtoul(argv[2], NULL, 0)) ||
	    setuid(strtoul(argv[1], NULL, 0)))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	const char *node = argc > 4 ? argv[4] : RK_HEAP_NODE;
	bool hold = argc > 5 && !strcmp(argv[5], "hold");
	unsigned char *p;
	int heap, fd, ret;
	size_t i;

	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: rk_heap_as UID GID GROUPS [NODE [hold]]\n");
		return 2;
	}
	ret = drop_to(argv);
	if (ret)
		return fail("setuid", -ret);
	heap = open(node, O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		return fail("open", errno);
	fd = rk_alloc(heap, LEN);
	if (fd < 0)
		return fail("alloc", -fd);
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap", errno);
	for (i = 0; i < LEN; i++)
		p[i] = i * 7;
	for (i = 0; i < LEN; i++)
		if (p[i] != (unsigned char)(i * 7))
			return fail("readback", EIO);
	munmap(p, LEN);
	printf("mapped %d\n", LEN);
	fflush(stdout);
	while (hold && getchar() != EOF)
		;
	close(fd);
	close(heap);
	return 0;
}
