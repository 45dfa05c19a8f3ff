# mm-dma-read len= is bounded.
iommu-create name=io pasid-bits=8
dev-create iommu=io name=d rid=8 pasid=yes pasid-bits=8
mm-create name=mm
mm-dma-read dev=d pasid=1 addr=0x10000000 len=0
