# The library is the one record of attachments: a device may have as many
# PASIDs attached as its width allows (the CLI used to keep its own list,
# capped at 64), and the end of the run detaches every one of them.
log-level level=err
iommu-create name=io pasid-bits=8
dev-create iommu=io name=nic rid=0x0210 pasid=yes pasid-bits=8
domain-create iommu=io name=blk type=blocked
attach dev=nic pasid=3 domain=blk
attach dev=nic pasid=6 domain=blk
attach dev=nic pasid=9 domain=blk
attach dev=nic pasid=12 domain=blk
attach dev=nic pasid=15 domain=blk
attach dev=nic pasid=18 domain=blk
attach dev=nic pasid=21 domain=blk
attach dev=nic pasid=24 domain=blk
attach dev=nic pasid=27 domain=blk
attach dev=nic pasid=30 domain=blk
attach dev=nic pasid=33 domain=blk
attach dev=nic pasid=36 domain=blk
attach dev=nic pasid=39 domain=blk
attach dev=nic pasid=42 domain=blk
attach dev=nic pasid=45 domain=blk
attach dev=nic pasid=48 domain=blk
attach dev=nic pasid=51 domain=blk
attach dev=nic pasid=54 domain=blk
attach dev=nic pasid=57 domain=blk
attach dev=nic pasid=60 domain=blk
attach dev=nic pasid=63 domain=blk
attach dev=nic pasid=66 domain=blk
attach dev=nic pasid=69 domain=blk
attach dev=nic pasid=72 domain=blk
attach dev=nic pasid=75 domain=blk
attach dev=nic pasid=78 domain=blk
attach dev=nic pasid=81 domain=blk
attach dev=nic pasid=84 domain=blk
attach dev=nic pasid=87 domain=blk
attach dev=nic pasid=90 domain=blk
attach dev=nic pasid=93 domain=blk
attach dev=nic pasid=96 domain=blk
attach dev=nic pasid=99 domain=blk
attach dev=nic pasid=102 domain=blk
attach dev=nic pasid=105 domain=blk
attach dev=nic pasid=108 domain=blk
attach dev=nic pasid=111 domain=blk
attach dev=nic pasid=114 domain=blk
attach dev=nic pasid=117 domain=blk
attach dev=nic pasid=120 domain=blk
attach dev=nic pasid=123 domain=blk
attach dev=nic pasid=126 domain=blk
attach dev=nic pasid=129 domain=blk
attach dev=nic pasid=132 domain=blk
attach dev=nic pasid=135 domain=blk
attach dev=nic pasid=138 domain=blk
attach dev=nic pasid=141 domain=blk
attach dev=nic pasid=144 domain=blk
attach dev=nic pasid=147 domain=blk
attach dev=nic pasid=150 domain=blk
attach dev=nic pasid=153 domain=blk
attach dev=nic pasid=156 domain=blk
attach dev=nic pasid=159 domain=blk
attach dev=nic pasid=162 domain=blk
attach dev=nic pasid=165 domain=blk
attach dev=nic pasid=168 domain=blk
attach dev=nic pasid=171 domain=blk
attach dev=nic pasid=174 domain=blk
attach dev=nic pasid=177 domain=blk
attach dev=nic pasid=180 domain=blk
attach dev=nic pasid=183 domain=blk
attach dev=nic pasid=186 domain=blk
attach dev=nic pasid=189 domain=blk
attach dev=nic pasid=192 domain=blk
attach dev=nic pasid=195 domain=blk
attach dev=nic pasid=198 domain=blk
attach dev=nic pasid=201 domain=blk
attach dev=nic pasid=204 domain=blk
attach dev=nic pasid=207 domain=blk
attach dev=nic pasid=210 domain=blk
dev-info dev=nic
expect pasids=70
detach dev=nic pasid=3
dev-attachments dev=nic
expect attachments=69
# 69 left attached: the teardown detaches them, then destroys the device
