# sva-bind pasid= is bounded.
iommu-create name=io pasid-bits=8
dev-create iommu=io name=d rid=8 pasid=yes pasid-bits=8
mm-create name=mm
sva-bind name=B mm=mm iommu=io dev=d pasid=0x100000000
