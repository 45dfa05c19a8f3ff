# `expect ok` after a command that failed: the error is named.
iommu-create name=io ias=20
expect ok
