# mirror-create levels= is bounded.
iommu-create name=io
mm-create name=mm
mirror-create name=M mm=mm iommu=io levels=6
