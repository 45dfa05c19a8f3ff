# At most 16 sg= elements.
mem-create name=m
iommu-create name=io mem=m
dev-create iommu=io name=d rid=8
dma-read-sg dev=d sg=0:1,0:1,0:1,0:1,0:1,0:1,0:1,0:1,0:1,0:1,0:1,0:1,0:1,0:1,0:1,0:1,0:1
