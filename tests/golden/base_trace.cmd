# Trace events in the Linux iommu format.
trace on=yes
trace-emit event=map iova=0xfffff000 paddr=0x5a9ed000 size=4K
trace-emit event=unmap iova=0xffffe000 size=8K
trace-emit event=attach_device_to_domain device=0000:00:04.0
trace-emit event=add_device_to_group gid=5 device=0000:00:1f.2
trace-emit event=io_page_fault driver=nvme device=0000:00:04.0 iova=0xdead000 flags=0x20
# a device name with a space cannot be printed in the kernel's format
trace-emit event=attach_device_to_domain device="bad name"
expect err=EINVAL
trace on=no
trace-emit event=map iova=0x1000 paddr=0x2000 size=4K

# Lines of a real Linux 6.1 capture parse and print back identically.
trace-parse line="       swapper/0-1       [000] .....     1.538549: map: IOMMU: iova=0x0000000000000000 - 0x0000000001000000 paddr=0x0000000000000000 size=16777216"
expect event=map size=16M roundtrip=yes
trace-parse line="              ip-10509   [000] .....    46.664330: map: IOMMU: iova=0x00000000ffff7000 - 0x00000000ffff8000 paddr=0x0000000006a89000 size=4096"
expect task=ip pid=10509 roundtrip=yes
# without the flags column (options/irq-info off) two spaces precede the time
trace-parse line="    kworker/u4:3-112     [001]      2.615063: map: IOMMU: iova=0x00000000fffff000 - 0x0000000100000000 paddr=0x000000005a9ed000 size=4096"
expect task=kworker/u4:3 ts_ns=2615063000 roundtrip=yes
trace-parse line="# tracer: nop"
expect err=ENOENT
trace-parse line="  x-1 [000] ..... 1.000000: map: IOMMU: iova=0x1 - 0x5 paddr=0x0 size=1"
expect err=EINVAL
