# Resolve by mapping (iopf-resolver): a domain filled lazily from an IOAS.
# A DMA to a backed page faults (EAGAIN: queued), processing maps the page
# from the area holding it and answers Success, the retry reads the IOAS's
# memory; an unbacked address and a write to a read-only area are Invalid.
# An ioas-unmap of the backing range unmaps what the resolver mapped before
# it returns (the access it pins through is told); mapped again, a fault
# maps the new area.  Manual mode: deterministic.  The IOAS is created
# before the iopf object (which goes first at the end of the run).
log-level level=err
mem-create name=m
mem-add mem=m name=ram kind=ram pa=0x100000 size=64K
mem-write mem=m pa=0x101004 data=5a5a
mem-write mem=m pa=0x108000 data=33
mem-write mem=m pa=0x10a004 data=7777
iommu-create name=io mem=m
dev-create iommu=io name=gpu rid=0x0300 pri=yes
domain-create iommu=io name=d
ioas-create name=a iommu=io
ioas-map ioas=a region=ram size=16K iova=0x10000
ioas-map ioas=a region=ram offset=32K size=4K iova=0x20000 prot=r
iopf-create iommu=io name=pf mode=manual
iopf-resolver iopf=pf domain=d ioas=a
iopf-resolver iopf=pf domain=d ioas=a
expect err=EBUSY
iopf-enable iopf=pf dev=gpu
attach dev=gpu domain=d

# demand paging: fault, process, retry
dma-read dev=gpu iova=0x11004 len=2
expect err=EAGAIN
iopf-process iopf=pf
expect processed=1
iopf-responses iopf=pf dev=gpu
expect count=1
dma-read dev=gpu iova=0x11004 len=2
expect data=5a5a
ioas-info ioas=a
expect pinned-pages=1 accesses=1
# a group of two pages
iopf-report iopf=pf dev=gpu prgi=7 addr=0x12000 last=no
iopf-report iopf=pf dev=gpu prgi=7 addr=0x13000
iopf-process iopf=pf
iopf-responses iopf=pf dev=gpu
translate dev=gpu iova=0x13000
# not backed; a write to the read-only area
dma-read dev=gpu iova=0x50000 len=1
expect err=EAGAIN
dma-write dev=gpu iova=0x20000 data=01
expect err=EAGAIN
iopf-process iopf=pf
iopf-responses iopf=pf dev=gpu
dma-read dev=gpu iova=0x20000 len=1
expect err=EAGAIN
iopf-process iopf=pf
iopf-responses iopf=pf dev=gpu
dma-read dev=gpu iova=0x20000 len=1
expect data=33

# the IOAS unmaps the range: the pages go from the domain before it returns
ioas-unmap ioas=a iova=0x10000 size=16K
translate dev=gpu iova=0x11000
expect err=ENOENT
translate dev=gpu iova=0x13000
expect err=ENOENT
translate dev=gpu iova=0x20000
ioas-info ioas=a
expect pinned-pages=1
dma-read dev=gpu iova=0x11004 len=2
expect err=EAGAIN
iopf-process iopf=pf
iopf-responses iopf=pf dev=gpu
# mapped again (other memory): a fault maps the new area
ioas-map ioas=a region=ram offset=36K size=16K iova=0x10000
dma-read dev=gpu iova=0x11004 len=2
expect err=EAGAIN
iopf-process iopf=pf
iopf-responses iopf=pf dev=gpu
dma-read dev=gpu iova=0x11004 len=2
expect data=7777
iopf-stats iopf=pf
# the IOAS cannot go while the resolver's access is on it
ioas-destroy ioas=a
expect err=EBUSY

# clearing the resolver unmaps what it mapped
detach dev=gpu
iopf-handler-clear iopf=pf domain=d
ioas-info ioas=a
expect pinned-pages=0 accesses=0
attach dev=gpu domain=d
translate dev=gpu iova=0x20000
expect err=ENOENT
