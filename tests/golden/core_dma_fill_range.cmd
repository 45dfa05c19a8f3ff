# fill= is a byte.
mem-create name=m
iommu-create name=io mem=m
dev-create iommu=io name=d rid=8
dma-write dev=d iova=0x1000 fill=0x100 count=4
