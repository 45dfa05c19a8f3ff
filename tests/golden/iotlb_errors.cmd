# IOTLB bad input: a clear error, and nothing changed.
iotlb-create name=bad capacity=48
expect err=EINVAL
iotlb-create name=bad ways=3
expect err=EINVAL
iotlb-create name=bad capacity=4 ways=8
expect err=EINVAL
iotlb-create name=bad capacity=32M
expect err=EINVAL
iotlb-create name=t capacity=16 ways=2
iotlb-insert tlb=t dom=1 iova=0x5000 addr=0x5000
# PASIDs have 20 bits
iotlb-lookup tlb=t dom=1 pasid=0x100000 iova=0
expect err=EINVAL
iotlb-insert tlb=t dom=1 pasid=0x100000 iova=0 addr=0
expect err=EINVAL
# pages and addresses aligned to the page size
iotlb-insert tlb=t dom=1 iova=0x1800 addr=0
expect err=EINVAL
iotlb-insert tlb=t dom=1 iova=0x200000 addr=0x1000 size=2M
expect err=EINVAL
iotlb-insert tlb=t dom=1 iova=0x1000 addr=0 prot=0x1000
expect err=EINVAL
# empty and wrapping ranges
iotlb-inv-range tlb=t dom=1 iova=0x5000 size=0
expect err=EINVAL
iotlb-inv-range tlb=t dom=1 iova=0x5000 size=0xffffffffffffffff
expect err=EINVAL
iotlb-inv-pasid tlb=t dom=1 pasid=0x100000
expect err=EINVAL
# nothing above changed the cache
iotlb-dump tlb=t
expect entries=1
iotlb-stats tlb=t
expect inserts=1 invalidations=0
# a page size that is not 4K, 2M or 1G is a usage error: the run stops here
iotlb-insert tlb=t dom=1 iova=0 addr=0 size=8K
iotlb-dump tlb=t
