# A scripted platform for `softiommu dump --run` (replay_dump_run*.args):
# two devices on one IOMMU, a VT-d domain shared by both, a second one
# attached to a PASID of the NIC, an identity domain on a third device (not
# dumped: no page table), and a table of its own (pt-create).
mem-create name=m
mem-add mem=m name=ram kind=ram pa=0x100000 size=4M
iommu-create name=io mem=m pasid-bits=8
dev-create iommu=io name=nic rid=0x0210 pasid=yes pasid-bits=8
dev-create iommu=io name=nvme rid=0x0300
dev-create iommu=io name=gpu rid=0x0008
domain-create iommu=io name=d1 fmt=vtd-ss levels=3
domain-create iommu=io name=d2 fmt=vtd-ss levels=3 table-base=0x20000000
domain-create iommu=io name=id type=identity
attach dev=nic domain=d1
attach dev=nvme domain=d1
attach dev=nic domain=d2 pasid=5
attach dev=gpu domain=id
domain-map domain=d1 iova=0x40000000 pa=0x100000 size=8K
domain-map domain=d1 iova=0x200000 pa=0x200000 size=2M
domain-map domain=d2 iova=0x1000 pa=0x300000 size=4K prot=r
pt-create name=t fmt=vtd-ss levels=3 phys_base=0x30000000
pt-map pt=t iova=0x7000 pa=0x5000 size=4K
