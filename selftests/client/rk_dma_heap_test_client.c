// SPDX-License-Identifier: GPL-2.0
/*
 * Test client of rk_dma_heap: platform devices named like RV1106 blocks
 * (ffa50000.rkvenc, ffa00000.rkisp, ff660000.npu) that use the heap's
 * in-kernel API the way vendor drivers do, driven from debugfs:
 *
 *   echo "CMD ARGS" > /sys/kernel/debug/rk_dma_heap_test/DEVICE
 *   cat /sys/kernel/debug/rk_dma_heap_test/DEVICE      (result of the last command)
 *
 * Commands (SLOT is 0..63, per device):
 *   alloc SLOT LEN [NAME]	rk_dma_heap_buffer_alloc(), owner NAME or dev_name
 *   allocfd SLOT LEN		rk_dma_heap_bufferfd_alloc(): result "fd N"
 *   import SLOT FD		dma_buf_get() on an fd of the writing process
 *   contig SLOT LEN [NAME]	rk_dma_heap_alloc_contig_pages()
 *   attach SLOT		dma_buf_attach() + map, as an importer does
 *   detach SLOT		unmap + detach the newest attachment
 *   vmap SLOT			dma_buf_vmap(); result "sum S" of all bytes
 *   dwrite SLOT BYTE		the device's DMA engine writes BYTE (decimal,
 *				0..255) to every byte of the newest attachment's
 *				mapping
 *   dread SLOT			the device's DMA engine reads that mapping:
 *				result "len L fnv 0xH first 0xB same N": its
 *				length, the 32-bit FNV-1a hash of its bytes in
 *				order, its first byte and how many bytes equal
 *				the first
 *   free SLOT			free a buffer or contiguous pages
 *   info SLOT			result "phys 0x.. len N"
 *   unbind-heap 0		unbind the heap's platform device from its driver,
 *				as removing its device-tree overlay does
 *   bind-heap 0		bind it again: result "bound 1", or "bound 0" if
 *				its probe failed
 *   free-foreign 0		rk_dma_heap_free_contig_pages() of a page that is
 *				not the heap's, as a buggy driver would call it
 * A failing command fails the write() with its errno.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mod_devicetable.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "rk_dma_heap_compat.h"
#include <linux/rk-dma-heap.h>

#define NR_SLOTS	64
#define MAX_ATTACH	8

struct client_slot {
	struct dma_buf *dmabuf;
	struct page *pages;
	size_t len;
	struct dma_buf_attachment *att[MAX_ATTACH];
	struct sg_table *sgt[MAX_ATTACH];
	unsigned int natt;
};

struct client {
	struct device *dev;
	struct rk_dma_heap *heap;
	struct device *heap_dev;
	struct dentry *file;
	struct mutex lock;	/* serialises commands */
	char result[128];
	struct client_slot slot[NR_SLOTS];
};

static struct dentry *client_dir;

static void client_detach(struct client_slot *s)
{
	unsigned int i = --s->natt;

	rk_dma_buf_unmap_attachment(s->att[i], s->sgt[i], DMA_BIDIRECTIONAL);
	dma_buf_detach(s->dmabuf, s->att[i]);
}

static int client_attach(struct client *c, struct client_slot *s)
{
	struct dma_buf_attachment *att;
	struct sg_table *sgt;

	if (!s->dmabuf || s->natt == MAX_ATTACH)
		return -EINVAL;
	att = dma_buf_attach(s->dmabuf, c->dev);
	if (IS_ERR(att))
		return PTR_ERR(att);
	sgt = rk_dma_buf_map_attachment(att, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		dma_buf_detach(s->dmabuf, att);
		return PTR_ERR(sgt);
	}
	s->att[s->natt] = att;
	s->sgt[s->natt++] = sgt;
	snprintf(c->result, sizeof(c->result), "nents %u dma 0x%llx",
		 sgt->nents, (u64)sg_dma_address(sgt->sgl));
	return 0;
}

static int client_vmap(struct client *c, struct client_slot *s)
{
	unsigned long sum = 0;
	const u8 *p;
	size_t i;
	int ret;

	if (!s->dmabuf)
		return -EINVAL;
	p = rk_dma_buf_vmap(s->dmabuf);
	if (IS_ERR(p))
		return PTR_ERR(p);
	ret = dma_buf_begin_cpu_access(s->dmabuf, DMA_FROM_DEVICE);
	for (i = 0; !ret && i < s->len; i++)
		sum += p[i];
	if (!ret)
		dma_buf_end_cpu_access(s->dmabuf, DMA_FROM_DEVICE);
	rk_dma_buf_vunmap(s->dmabuf, (void *)p);
	snprintf(c->result, sizeof(c->result), "sum %lu", sum);
	return ret;
}

/*
 * The device's DMA engine. What it reads and writes is the memory at the
 * DMA addresses of a mapping, segment by segment. QEMU's virt machine has
 * no IOMMU and no DMA offset: a DMA address is the physical address the
 * device reaches, which is the buffer's own page or, where the mapping
 * bounced, a swiotlb slot. The CPU stands in for the engine through the
 * kernel's linear map of that page (QEMU has no cache to go past). A DMA
 * address without a struct page, not in RAM, or in highmem (outside the
 * linear map; the test guests have none) is refused with -EINVAL before
 * anything is touched.
 */
struct client_dma {
	int byte;	/* the byte to write, or -1 to read */
	size_t len;
	u32 fnv;
	u8 first;
	size_t same;
};

static bool client_dma_is_ram(phys_addr_t phys, size_t len)
{
	unsigned long pfn;

	for (pfn = PHYS_PFN(phys); pfn <= PHYS_PFN(phys + len - 1); pfn++)
		if (!pfn_valid(pfn) || !page_is_ram(pfn) ||
		    PageHighMem(pfn_to_page(pfn)))
			return false;
	return true;
}

/* Read or write [@phys, @phys + @len), page by page. */
static void client_dma_range(struct client_dma *d, phys_addr_t phys,
			     size_t len)
{
	size_t off, piece, i;
	u8 *p;

	while (len) {
		off = offset_in_page(phys);
		piece = min_t(size_t, len, PAGE_SIZE - off);
		p = page_address(pfn_to_page(PHYS_PFN(phys)));
		if (d->byte >= 0) {
			memset(p + off, d->byte, piece);
		} else {
			if (!d->len)
				d->first = p[off];
			for (i = 0; i < piece; i++) {
				d->fnv = (d->fnv ^ p[off + i]) * 0x01000193;
				d->same += p[off + i] == d->first;
			}
		}
		d->len += piece;
		phys += piece;
		len -= piece;
	}
}

static int client_dma(struct client *c, struct client_slot *s, int byte)
{
	struct client_dma d = { .byte = byte, .fnv = 0x811c9dc5 };
	struct scatterlist *sg;
	struct sg_table *sgt;
	int i;

	if (!s->natt)
		return -EINVAL;
	sgt = s->sgt[s->natt - 1];
	for_each_sgtable_dma_sg(sgt, sg, i)
		if (!sg_dma_len(sg) ||
		    !client_dma_is_ram((phys_addr_t)sg_dma_address(sg),
				       sg_dma_len(sg)))
			return -EINVAL;
	for_each_sgtable_dma_sg(sgt, sg, i)
		client_dma_range(&d, (phys_addr_t)sg_dma_address(sg),
				 sg_dma_len(sg));
	if (byte < 0)
		snprintf(c->result, sizeof(c->result),
			 "len %zu fnv 0x%08x first 0x%02x same %zu", d.len,
			 d.fnv, d.first, d.same);
	return 0;
}

static void client_free(struct client *c, struct client_slot *s)
{
	while (s->natt)
		client_detach(s);
	if (s->dmabuf)
		rk_dma_heap_buffer_free(s->dmabuf);
	if (s->pages)
		rk_dma_heap_free_contig_pages(c->heap, s->pages, s->len,
					      dev_name(c->dev));
	memset(s, 0, sizeof(*s));
}

/* Keep a dma-buf (or its error) in a slot; the result names its inode. */
static int client_take(struct client *c, struct client_slot *s,
		       struct dma_buf *d)
{
	if (IS_ERR(d))
		return PTR_ERR(d);
	s->dmabuf = d;
	s->len = d->size;
	snprintf(c->result, sizeof(c->result), "ino %llu",
		 (u64)file_inode(d->file)->i_ino);
	return 0;
}

static int client_cmd(struct client *c, char *line)
{
	char cmd[16], name[32] = "";
	unsigned int slot;
	unsigned long len = 0;
	struct client_slot *s;
	int n, fd;

	n = sscanf(line, "%15s %u %lu %31s", cmd, &slot, &len, name);
	if (n < 2 || slot >= NR_SLOTS)
		return -EINVAL;
	s = &c->slot[slot];
	c->result[0] = '\0';

	if (!strcmp(cmd, "alloc") || !strcmp(cmd, "contig") ||
	    !strcmp(cmd, "allocfd") || !strcmp(cmd, "import")) {
		if (n < 3)
			return -EINVAL;
		if (s->dmabuf || s->pages)
			return -EBUSY;
	}
	if (!strcmp(cmd, "alloc")) {
		struct dma_buf *d;

		d = rk_dma_heap_buffer_alloc(c->heap, len, O_CLOEXEC | O_RDWR, 0,
					     n > 3 ? name : dev_name(c->dev));
		return client_take(c, s, d);
	} else if (!strcmp(cmd, "allocfd")) {
		fd = rk_dma_heap_bufferfd_alloc(c->heap, len, O_CLOEXEC | O_RDWR,
						0, NULL);
		if (fd < 0)
			return fd;
		snprintf(c->result, sizeof(c->result), "fd %d", fd);
	} else if (!strcmp(cmd, "import")) {
		struct dma_buf *d = dma_buf_get(len);

		return client_take(c, s, d);
	} else if (!strcmp(cmd, "contig")) {
		struct page *p;

		p = rk_dma_heap_alloc_contig_pages(c->heap, len,
						   n > 3 ? name : dev_name(c->dev));
		if (IS_ERR(p))
			return PTR_ERR(p);
		s->pages = p;
		s->len = len;
		snprintf(c->result, sizeof(c->result), "phys 0x%llx len %lu",
			 (u64)page_to_phys(p), len);
	} else if (!strcmp(cmd, "attach")) {
		return client_attach(c, s);
	} else if (!strcmp(cmd, "detach")) {
		if (!s->natt)
			return -EINVAL;
		client_detach(s);
	} else if (!strcmp(cmd, "vmap")) {
		return client_vmap(c, s);
	} else if (!strcmp(cmd, "dwrite")) {
		if (n < 3 || len > 0xff)
			return -EINVAL;
		return client_dma(c, s, len);
	} else if (!strcmp(cmd, "dread")) {
		return client_dma(c, s, -1);
	} else if (!strcmp(cmd, "unbind-heap")) {
		device_release_driver(c->heap_dev);
	} else if (!strcmp(cmd, "bind-heap")) {
		n = device_attach(c->heap_dev);
		if (n < 0)
			return n;
		snprintf(c->result, sizeof(c->result), "bound %d", n);
	} else if (!strcmp(cmd, "free-foreign")) {
		rk_dma_heap_free_contig_pages(c->heap, virt_to_page(c),
					      PAGE_SIZE, dev_name(c->dev));
	} else if (!strcmp(cmd, "free")) {
		if (!s->dmabuf && !s->pages)
			return -EINVAL;
		client_free(c, s);
	} else {
		return -EINVAL;
	}
	return 0;
}

static ssize_t client_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct client *c = file_inode(file)->i_private;
	char line[96];
	int ret;

	if (count >= sizeof(line))
		return -EINVAL;
	if (copy_from_user(line, ubuf, count))
		return -EFAULT;
	line[count] = '\0';
	mutex_lock(&c->lock);
	ret = client_cmd(c, line);
	mutex_unlock(&c->lock);
	return ret ? ret : count;
}

static ssize_t client_read(struct file *file, char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct client *c = file_inode(file)->i_private;
	char buf[sizeof(c->result) + 1];
	int len;

	mutex_lock(&c->lock);
	len = scnprintf(buf, sizeof(buf), "%s\n", c->result);
	mutex_unlock(&c->lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static const struct file_operations client_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = client_read,
	.write = client_write,
};

static int client_probe(struct platform_device *pdev)
{
	struct client *c;

	c = devm_kzalloc(&pdev->dev, sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->dev = &pdev->dev;
	mutex_init(&c->lock);
	c->heap = rk_dma_heap_find(RK_DMA_HEAP_CMA_NAME);
	if (!c->heap)
		return dev_err_probe(c->dev, -EPROBE_DEFER, "no heap %s yet\n",
				     RK_DMA_HEAP_CMA_NAME);
	c->heap_dev = get_device(rk_dma_heap_get_dev(c->heap));
	c->file = debugfs_create_file(dev_name(c->dev), 0600, client_dir, c,
				      &client_fops);
	platform_set_drvdata(pdev, c);
	return 0;
}

static void client_remove_common(struct platform_device *pdev)
{
	struct client *c = platform_get_drvdata(pdev);
	unsigned int i;

	debugfs_remove(c->file);
	for (i = 0; i < NR_SLOTS; i++)
		client_free(c, &c->slot[i]);
	put_device(c->heap_dev);
	rk_dma_heap_put(c->heap);
}

RK_PLATFORM_REMOVE(client_remove, client_remove_common)

static const struct of_device_id client_of_match[] = {
	{ .compatible = "rockchip,rk-dma-heap-test-client" },
	{ }
};
MODULE_DEVICE_TABLE(of, client_of_match);

static struct platform_driver client_driver = {
	.probe = client_probe,
	.remove = client_remove,
	.driver = {
		.name = "rk-dma-heap-test-client",
		.of_match_table = client_of_match,
	},
};

static int __init client_init(void)
{
	int ret;

	client_dir = debugfs_create_dir("rk_dma_heap_test", NULL);
	ret = platform_driver_register(&client_driver);
	if (ret)
		debugfs_remove(client_dir);
	return ret;
}
module_init(client_init);

static void __exit client_exit(void)
{
	platform_driver_unregister(&client_driver);
	debugfs_remove(client_dir);
}
module_exit(client_exit);

MODULE_DESCRIPTION("rk_dma_heap test client (RV1106 block stand-ins)");
MODULE_LICENSE("GPL");
RK_MODULE_IMPORT_DMA_BUF();
