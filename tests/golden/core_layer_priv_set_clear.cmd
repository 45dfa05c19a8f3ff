# layer-priv sets or clears, not both.
iommu-create name=io
dev-create iommu=io name=d rid=8
layer-register iommu=io name=L
layer-priv layer=L dev=d set=x clear=yes
