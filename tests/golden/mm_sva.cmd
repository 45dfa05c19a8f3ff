# SVA: a device PASID translates through the mm's own table (no copy); its
# page faults are resolved by faulting the mm; device and CPU agree; an
# munmap reaches the IOTLB before it returns; the mm's exit unbinds.
iommu-create name=io pasid-bits=8
dev-create name=d iommu=io rid=0x200 pri=yes pasid=yes pasid-bits=8
mm-create name=mm
mm-mmap mm=mm len=2M as=a
sva-bind name=b mm=mm iommu=io dev=d pasid=3
expect shared_table=yes
# the device touches first: a fault, resolved inline; zero-filled
mm-dma-read dev=d pasid=3 addr=$a.addr+0x40 len=4
expect data=00000000
mm-write mm=mm addr=$a.addr+0x40 data=5a5a
mm-dma-read dev=d pasid=3 addr=$a.addr+0x40 len=2
expect data=5a5a
mm-dma-write dev=d pasid=3 addr=$a.addr+0x1000 data=beef
mm-read mm=mm addr=$a.addr+0x1000 len=2
expect data=beef
mm-level mm=mm addr=$a.addr
expect level=2M mapped=yes
# the PASID's requests without a binding still fault
mm-dma-read dev=d pasid=4 addr=$a.addr len=1
expect err=ENODATA
# munmap: the IOTLB entry is gone when it returns
mm-munmap mm=mm addr=$a.addr len=2M
mm-dma-read dev=d pasid=3 addr=$a.addr+0x40 len=2
expect err=ENOENT
mm-info mm=mm
expect bindings=1 notifiers=1
sva-unbind sva=b
mm-info mm=mm
expect bindings=0 notifiers=0
# the mm's last user goes while bound: release detaches the PASID
sva-bind name=b2 mm=mm iommu=io dev=d pasid=5
mm-destroy mm=mm
mm-dma-read dev=d pasid=5 addr=$a.addr len=1
expect err=ENODATA
sva-unbind sva=b2
dev-destroy dev=d
iommu-destroy iommu=io
