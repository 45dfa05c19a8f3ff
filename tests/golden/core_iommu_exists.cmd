# IOMMU names are unique.
iommu-create name=io
iommu-create name=io
