# A layer's mode is ok, refuse (EPERM) or refuse=ERR with an error name;
# anything else is bad input and the run stops.
iommu-create name=io
layer-register iommu=io name=a mode=refuse
layer-register iommu=io name=b mode=refuse=ENOTANERROR
