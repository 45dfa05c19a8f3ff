# DMA copies through a memory map: the IOMMU needs mem=.
iommu-create name=io
dev-create iommu=io name=d rid=8
dma-write dev=d iova=0x1000 data=00
