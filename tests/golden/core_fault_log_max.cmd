# fault-log max= is bounded.
iommu-create name=io
fault-log iommu=io max=100000
