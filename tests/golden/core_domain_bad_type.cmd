# Domain types: blocked, identity, paging.
iommu-create name=io
domain-create iommu=io name=D type=nested
