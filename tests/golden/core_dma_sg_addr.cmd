# An sg= element's address must be a number.
mem-create name=m
iommu-create name=io mem=m
dev-create iommu=io name=d rid=8
dma-write-sg dev=d sg=0x1000:00,zz:01
