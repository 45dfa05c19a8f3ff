# A run that ends with an SVA binding and a mirror still in place: the CLI
# unbinds, detaches and destroys them, and the run succeeds.
iommu-create name=io pasid-bits=8
dev-create iommu=io name=d rid=8 pasid=yes pasid-bits=8
dev-create iommu=io name=e rid=16 pri=yes
mm-create name=mm
mm-mmap mm=mm len=8K addr=0x10000000
mm-write mm=mm addr=0x10000000 data=a5a5
sva-bind name=B mm=mm iommu=io dev=d pasid=5
mm-dma-read dev=d pasid=5 addr=0x10000000 len=2
mirror-create name=M mm=mm iommu=io
mirror-attach mirror=M dev=e
mm-dma-read dev=e addr=0x10000000 len=2
