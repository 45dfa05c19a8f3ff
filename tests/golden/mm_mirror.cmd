# A mirror domain: an I/O table of its own filled on device faults from the
# mm (the largest page the mm has), zapped by every invalidation of the mm.
iommu-create name=io
dev-create name=d iommu=io rid=0x100 pri=yes
mm-create name=mm
mm-mmap mm=mm len=4M as=a
mm-write mm=mm addr=$a.addr+0x3000 data=0102030405060708
mirror-create name=m mm=mm iommu=io
mirror-attach mirror=m dev=d
mirror-level mirror=m addr=$a.addr
expect mapped=none
# the device's first read faults; the domain's handler mirrors the 2M page
mm-dma-read dev=d addr=$a.addr+0x3000 len=8
expect data=0102030405060708
mirror-level mirror=m addr=$a.addr+0x1ff000
expect mapped=2M
# device writes reach the CPU's memory
mm-dma-write dev=d addr=$a.addr+2M data=aabb
mm-read mm=mm addr=$a.addr+2M len=2
expect data=aabb
mirror-stats mirror=m
expect faults=2 maps_2m=2 zaps=0
# mprotect read-only: the mirror is zapped, a device write fails (the handler
# refuses it: an unrecoverable not-present fault), a read refaults
mm-mprotect mm=mm addr=$a.addr len=2M prot=r
mirror-level mirror=m addr=$a.addr
expect mapped=none
mm-dma-write dev=d addr=$a.addr data=ff
expect err=ENOENT
mm-dma-read dev=d addr=$a.addr+0x3000 len=2
expect data=0102
# a partial munmap splits the mm's 2M page: the mirror maps 4K from then on
mm-munmap mm=mm addr=$a.addr+2M+0x10000 len=4K
mirror-level mirror=m addr=$a.addr+2M
expect mapped=none
mm-dma-read dev=d addr=$a.addr+2M len=2
expect data=aabb
mirror-level mirror=m addr=$a.addr+2M
expect mapped=4K
mm-dma-read dev=d addr=$a.addr+2M+0x10000 len=1
expect err=ENOENT
# the 4K-only baseline mirror, faulted by hand (no handler: iopf's job)
mirror-create name=m4 mm=mm iommu=io only4k=yes handler=no
mirror-fault mirror=m4 addr=$a.addr+0x5000
expect mapped=4K
mirror-fault mirror=m4 addr=$a.addr+0x5000 access=w
expect err=EACCES
mirror-fault mirror=m4 addr=$a.addr+8M
expect err=EFAULT
mirror-stats mirror=m
mirror-detach dev=d
mirror-destroy mirror=m4
mirror-destroy mirror=m
mm-destroy mm=mm
dev-destroy dev=d
iommu-destroy iommu=io
