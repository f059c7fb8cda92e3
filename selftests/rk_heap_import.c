// SPDX-License-Identifier: GPL-2.0
/*
 * Real importers of rk-dma-heap-cma buffers: DRM (vgem, through libdrm's
 * PRIME import) and V4L2 (vivid capturing into heap buffers with its
 * dma-contig allocator). The info node must list the importing devices.
 */
#include <poll.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>
#include <linux/videodev2.h>
#include <xf86drm.h>
#include "kselftest_harness.h"
#include "rk_test.h"
#include "rk_fixture.h"

static int open_vgem(void)
{
	drmVersionPtr v;
	char path[32];
	int i, fd;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/dri/card%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		v = drmGetVersion(fd);
		if (v && !strcmp(v->name, "vgem")) {
			drmFreeVersion(v);
			return fd;
		}
		if (v)
			drmFreeVersion(v);
		close(fd);
	}
	return -1;
}

RK_TEST(vgem_import_close_reimport)
{
	struct rk_info info;
	uint32_t h1, h2;
	int heap, buf, drm, drm2;

	ASSERT_EQ(0, system("modprobe vgem"));
	drm = open_vgem();
	ASSERT_LE(0, drm) TH_LOG("no vgem DRM device");
	drm2 = open_vgem();
	ASSERT_LE(0, drm2);
	heap = open(RK_HEAP_NODE, O_RDWR);
	ASSERT_LE(0, heap);
	buf = rk_alloc(heap, 1 << 20);
	ASSERT_LE(0, buf);

	ASSERT_EQ(0, drmPrimeFDToHandle(drm, buf, &h1));
	ASSERT_EQ(0, rk_info_lookup(rk_ino(buf), &info));
	EXPECT_EQ(1, info.ndev);
	EXPECT_EQ(1, info.total_line);
	EXPECT_STREQ("vgem", info.devs[0]);

	/* a second DRM file imports on its own: the device is listed twice */
	ASSERT_EQ(0, drmPrimeFDToHandle(drm2, buf, &h2));
	ASSERT_EQ(0, rk_info_lookup(rk_ino(buf), &info));
	EXPECT_EQ(2, info.ndev);
	EXPECT_EQ(2, info.total_line);
	EXPECT_STREQ("vgem", info.devs[1]);

	ASSERT_EQ(0, drmCloseBufferHandle(drm2, h2));
	ASSERT_EQ(0, drmCloseBufferHandle(drm, h1));
	ASSERT_EQ(0, rk_info_lookup(rk_ino(buf), &info));
	EXPECT_EQ(0, info.ndev);
	EXPECT_EQ(0, info.total_line);

	ASSERT_EQ(0, drmPrimeFDToHandle(drm, buf, &h1));
	ASSERT_EQ(0, rk_info_lookup(rk_ino(buf), &info));
	EXPECT_EQ(1, info.ndev);
	ASSERT_EQ(0, drmCloseBufferHandle(drm, h1));

	close(buf);
	close(heap);
	close(drm2);
	close(drm);
	EXPECT_EQ(0UL, rk_cma_used_pages());
}

static int open_vivid_capture(void)
{
	struct v4l2_capability cap;
	char path[32];
	int i, fd;

	for (i = 0; i < 16; i++) {
		snprintf(path, sizeof(path), "/dev/video%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, VIDIOC_QUERYCAP, &cap) &&
		    !strcmp((char *)cap.driver, "vivid") &&
		    (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE))
			return fd;
		close(fd);
	}
	return -1;
}

RK_TEST(vivid_captures_into_heap_buffers)
{
	struct v4l2_requestbuffers req = { 0 };
	struct v4l2_format fmt = { 0 };
	struct v4l2_buffer vb;
	struct dma_buf_sync sync;
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	struct pollfd pfd;
	struct rk_info info;
	int heap, vid, bufs[2], i;
	unsigned int size, nonzero = 0;
	unsigned char *p;
	uint64_t base, rsize;

	/*
	 * vivid's dma-contig device has a 32-bit DMA mask: where its
	 * mapping bounces, each of the buffer's segments (64 KiB, its
	 * maximum) takes a swiotlb slot of its own, and videobuf2-dma-contig
	 * refuses the result as not contiguous, whatever the exporter does
	 * right. rk_heap_bounce covers bouncing importers with the test
	 * client.
	 */
	rk_region(&base, &rsize);
	if (rk_bounces_for_32bit(base + rsize - 1))
		SKIP(return, "vivid's 32-bit device would bounce: videobuf2-dma-contig needs one contiguous DMA range");

	/* allocators=1: dma-contig, as a device without IOMMU has */
	ASSERT_EQ(0, system("modprobe vivid n_devs=1 node_types=0x1 allocators=1"));
	vid = open_vivid_capture();
	ASSERT_LE(0, vid) TH_LOG("no vivid capture device");
	heap = open(RK_HEAP_NODE, O_RDWR);
	ASSERT_LE(0, heap);

	fmt.type = type;
	fmt.fmt.pix.width = 320;
	fmt.fmt.pix.height = 240;
	fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	ASSERT_EQ(0, ioctl(vid, VIDIOC_S_FMT, &fmt));
	size = fmt.fmt.pix.sizeimage;
	ASSERT_LT(0U, size);

	req.count = 2;
	req.type = type;
	req.memory = V4L2_MEMORY_DMABUF;
	ASSERT_EQ(0, ioctl(vid, VIDIOC_REQBUFS, &req));
	ASSERT_EQ(2U, req.count);
	for (i = 0; i < 2; i++) {
		bufs[i] = rk_alloc(heap, size);
		ASSERT_LE(0, bufs[i]);
		memset(&vb, 0, sizeof(vb));
		vb.type = type;
		vb.memory = V4L2_MEMORY_DMABUF;
		vb.index = i;
		vb.m.fd = bufs[i];
		vb.length = size;
		ASSERT_EQ(0, ioctl(vid, VIDIOC_QBUF, &vb))
			TH_LOG("QBUF %d: %s", i, strerror(errno));
	}
	ASSERT_EQ(0, rk_info_lookup(rk_ino(bufs[0]), &info));
	EXPECT_EQ(1, info.ndev) TH_LOG("vivid attached while queued");

	ASSERT_EQ(0, ioctl(vid, VIDIOC_STREAMON, &type));
	pfd.fd = vid;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 20000)) TH_LOG("no frame in 20 s");
	memset(&vb, 0, sizeof(vb));
	vb.type = type;
	vb.memory = V4L2_MEMORY_DMABUF;
	ASSERT_EQ(0, ioctl(vid, VIDIOC_DQBUF, &vb));
	EXPECT_EQ(size, vb.bytesused);

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, bufs[vb.index], 0);
	ASSERT_TRUE(p != MAP_FAILED);
	sync.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ;
	ASSERT_EQ(0, ioctl(bufs[vb.index], DMA_BUF_IOCTL_SYNC, &sync));
	for (i = 0; i < (int)size; i++)
		nonzero += p[i] != 0;
	/* vivid's 75% colour bars start with a light grey bar (Y about 180) */
	EXPECT_LT(150, p[0]);
	EXPECT_LT(size / 2, nonzero) TH_LOG("the frame is not in the buffer");
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ;
	ASSERT_EQ(0, ioctl(bufs[vb.index], DMA_BUF_IOCTL_SYNC, &sync));
	munmap(p, size);

	ASSERT_EQ(0, ioctl(vid, VIDIOC_STREAMOFF, &type));
	req.count = 0;
	ASSERT_EQ(0, ioctl(vid, VIDIOC_REQBUFS, &req));
	close(vid);
	ASSERT_EQ(0, rk_info_lookup(rk_ino(bufs[0]), &info));
	EXPECT_EQ(0, info.ndev) TH_LOG("vivid still attached after REQBUFS 0");
	close(bufs[0]);
	close(bufs[1]);
	close(heap);
	EXPECT_EQ(0UL, rk_cma_used_pages());
}

TEST_HARNESS_MAIN
