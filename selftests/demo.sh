#!/bin/sh
# make demo: a few allocations from user space and from the test client
# devices, what the device node and the info node show, and last the
# screen of rk-dma-heap-top --once while drivers and processes hold buffers.
H=/sys/kernel/debug/rk_dma_heap_test
echo "==== ls -l /dev/rk_dma_heap/"
ls -l /dev/rk_dma_heap/
insmod /lib/modules/rk/rk_dma_heap_test_client.ko
modprobe vgem 2>/dev/null
# driver-side allocations, as rkvenc, rkisp and the NPU make them
echo "alloc 0 102400" > $H/ff660000.npu
echo "alloc 0 409600" > $H/ffa50000.rkvenc
echo "attach 0" > $H/ffa50000.rkvenc
echo "contig 0 69632" > $H/ffa00000.rkisp
echo "contig 1 16384 rkisp-vir0" > $H/ffa00000.rkisp
echo "==== user space allocates 100 KiB (named vmpi), 432 KiB and 1 MiB"
rk_heap_demo -c "echo '==== cat /proc/rk_dma_heap/rk-dma-heap-info'; cat /proc/rk_dma_heap/rk-dma-heap-info; echo '==== cat /proc/rk_dma_heap/rk-dma-heap-usage'; cat /proc/rk_dma_heap/rk-dma-heap-usage" 100:vmpi 432 1024
echo "free 0" > $H/ff660000.npu
echo "free 0" > $H/ffa50000.rkvenc
echo "free 0" > $H/ffa00000.rkisp
echo "free 1" > $H/ffa00000.rkisp
echo "==== after freeing everything"
cat /proc/rk_dma_heap/rk-dma-heap-info
head -n 2 /proc/rk_dma_heap/alloc_bitmap
# The last screen: the NPU holds a dma-buf of its own and rkisp contiguous
# pages; a process holds two buffers by fd (and maps them) and its child one
# only by a mapping. rk-dma-heap-top runs while they hold them.
echo "alloc 0 102400" > $H/ff660000.npu
echo "contig 0 69632" > $H/ffa00000.rkisp
rk_heap_demo -c "rk_heap_demo -m -c 'rk-dma-heap-top --once > /tmp/top.txt' 1024:rga > /dev/null" \
	432:vmpi 100 > /dev/null
echo "free 0" > $H/ff660000.npu
echo "free 0" > $H/ffa00000.rkisp
echo "==== rk-dma-heap-top --once (the NPU and rkisp hold buffers; a process holds"
echo "==== two by fd, its child one only by a mapping)"
cat /tmp/top.txt
