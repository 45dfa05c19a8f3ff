# A PASID is at most 32 bits.
iommu-create name=io pasid-bits=8
dev-create iommu=io name=d rid=8 pasid=yes pasid-bits=8
translate dev=d iova=0x1000 pasid=0x100000000
