# dma-read len= is bounded.
mem-create name=m
iommu-create name=io mem=m
dev-create iommu=io name=d rid=8
dma-read dev=d iova=0x1000 len=0x100000000
