# A run that stops early with a mirror still attached to a device made
# before it: the teardown detaches the mirror (objects go in reverse order
# of creation) and destroys everything, nothing left alive.
iommu-create name=io
dev-create name=d iommu=io rid=0x100 pri=yes
mm-create name=mm
mm-mmap mm=mm len=4M as=a
mirror-create name=m mm=mm iommu=io
mirror-attach mirror=m dev=d
mm-dma-read dev=d addr=$a.addr len=8
expect data=0000000000000000
mirror-stats mirror=m
expect nosuchkey=1
echo msg="not reached"
