# A failed command has no result values to compare.
iommu-create name=io ias=20
expect ias=20
