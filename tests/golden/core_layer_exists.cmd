# Layer names are unique.
iommu-create name=io
layer-register iommu=io name=L
layer-register iommu=io name=L
