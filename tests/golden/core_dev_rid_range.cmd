# A requester id is at most 32 bits (segment, bus, device, function).
iommu-create name=io
dev-create iommu=io name=d rid=0x100000000
