# data= is pairs of hex digits.
mem-create name=m
iommu-create name=io mem=m
dev-create iommu=io name=d rid=8
dma-write dev=d iova=0x1000 data=0g
