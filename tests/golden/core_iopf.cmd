# Recoverable faults: a device with PRI in a domain with a fault handler.
# mode=queue answers with a page request (the DMA returns EAGAIN, nothing is
# logged); mode=resolve maps the faulting page from a pool and the DMA
# completes; an empty pool or a map that cannot fix the fault leaves it
# unrecoverable (logged, the DMA gets the fault's error).
log-level level=err
mem-create name=m
mem-add mem=m name=ram kind=ram pa=0x100000 size=64K
iommu-create name=io mem=m
dev-create iommu=io name=gpu rid=0x0300 pri=yes
dev-create iommu=io name=nic rid=0x0400
domain-create iommu=io name=d
attach dev=gpu domain=d
attach dev=nic domain=d

# queue: every recoverable fault is a page request
domain-fault-handler domain=d mode=queue
dma-read dev=gpu iova=0x40000000 len=4
expect err=EAGAIN
dma-write dev=gpu iova=0x40001000 data=01
expect err=EAGAIN
# a device without PRI faults for good, handler or not
dma-read dev=nic iova=0x40000000 len=4
expect err=ENOENT
iommu-stats iommu=io
expect recoverable=2 page_requests=2 resolved=0 not-present=3 logged=1
fault-log iommu=io
expect records=1
# one handler at a time
domain-fault-handler domain=d mode=queue
expect err=EBUSY
domain-fault-handler domain=d mode=none
expect queued=2 resolved=0
domain-fault-handler domain=d mode=none
expect err=ENOENT
# without a handler the fault is unrecoverable
dma-read dev=gpu iova=0x40000000 len=4
expect err=ENOENT

# resolve: two pool pages, handed out in order; a read across three
# unmapped pages takes both and then faults for good
domain-fault-handler domain=d mode=resolve pa=0x108000 pages=2
mem-write mem=m pa=0x108ffe data=a1a2
mem-write mem=m pa=0x109000 data=b1b2
dma-read dev=gpu iova=0x50000ffe len=4
expect data=a1a2b1b2
translate dev=gpu iova=0x50001000
expect pa=0x109000
dma-read dev=gpu iova=0x50002000 len=1
expect err=ENOENT
domain-fault-handler domain=d mode=none
expect queued=0 resolved=2 failed=1
# a permission fault: the page is mapped read-only, a map cannot fix it
domain-fault-handler domain=d mode=resolve pa=0x10a000 pages=4
domain-map domain=d iova=0x60000000 pa=0x100000 size=4K prot=r
dma-write dev=gpu iova=0x60000000 data=ff
expect err=EACCES
iommu-stats iommu=io
expect recoverable=6 page_requests=2 resolved=2 permission=1

# only paging domains have handlers; a resolve pool is checked (a usage
# error: the run stops; the handler still installed goes with its domain)
domain-create iommu=io name=id type=identity
domain-fault-handler domain=id mode=queue
expect err=EINVAL
domain-fault-handler domain=d mode=resolve pa=0x108001
