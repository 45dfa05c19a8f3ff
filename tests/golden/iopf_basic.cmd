# I/O page faults (seed 002): groups by PRG index and PASID, Stop Markers,
# responses by group and by index, the full queue and its overflow bit.
# Manual mode: requests wait in the PRQ (prq 8: 7 entries) until
# iopf-process, as for a driver's interrupt thread.
log-level level=err
iommu-create name=io pasid-bits=8 prq=8
dev-create iommu=io name=gpu rid=0x0300 pri=yes pasid=yes pasid-bits=8
dev-create iommu=io name=nic rid=0x0400 pri=yes pasid=yes pasid-bits=8 prg-resp-pasid=yes
domain-create iommu=io name=d
domain-create iommu=io name=h
iopf-create iommu=io name=pf mode=manual drain-timeout=nowait
iopf-enable iopf=pf dev=gpu
iopf-enable iopf=pf dev=nic
iopf-handler iopf=pf domain=d mode=success
iopf-handler iopf=pf domain=h mode=hold
attach dev=gpu domain=d pasid=1
attach dev=gpu domain=d pasid=2
attach dev=nic domain=h pasid=1

# two PASIDs' groups of PRG 3, interleaved: each forms alone
iopf-report iopf=pf dev=gpu pasid=1 prgi=3 addr=0x1000 last=no
iopf-report iopf=pf dev=gpu pasid=2 prgi=3 addr=0x2000 last=no
iopf-report iopf=pf dev=gpu pasid=1 prgi=3 addr=0x3000
iopf-report iopf=pf dev=gpu pasid=2 prgi=3 addr=0x4000
iopf-process iopf=pf
expect processed=4
iopf-responses iopf=pf dev=gpu
expect count=2
iopf-stats iopf=pf
expect groups=2 requests=4 success=2

# a Stop Marker discards its PASID's partial group, and gets no response
iopf-report iopf=pf dev=gpu pasid=1 prgi=5 addr=0x1000 last=no
iopf-report iopf=pf dev=gpu pasid=1 stop=yes prgi=0
iopf-report iopf=pf dev=gpu pasid=1 prgi=5 addr=0x2000
iopf-process iopf=pf
iopf-stats iopf=pf
expect stop=1 discarded=1 groups=3
iopf-responses iopf=pf dev=gpu
expect count=1

# a device that needs the PASID in its responses; by-index answers
iopf-report iopf=pf dev=nic pasid=1 prgi=9 count=3 addr=0x10000
iopf-process iopf=pf
iopf-respond iopf=pf dev=nic prgi=9
expect err=ENOENT
iopf-respond iopf=pf dev=nic prgi=9 pasid=2
expect err=ENOENT
iopf-respond iopf=pf dev=nic prgi=9 pasid=1 code=invalid
iopf-respond iopf=pf dev=nic prgi=9 pasid=1
expect err=ENOENT
iopf-answer iopf=pf domain=h
expect delivered=no
iopf-responses iopf=pf dev=nic

# the full queue: L=1 answered Success by the IOMMU, L=0 and Stop Markers dropped
iopf-report iopf=pf dev=gpu pasid=2 prgi=20 addr=0x1000 last=no
iopf-report iopf=pf dev=gpu pasid=2 prgi=30 count=6 addr=0x1000 last=yes
expect queued=6
iopf-report iopf=pf dev=gpu pasid=2 prgi=40
expect queued=0
iopf-report iopf=pf dev=gpu pasid=2 prgi=41 last=no
expect queued=0
iopf-report iopf=pf dev=gpu pasid=2 stop=yes prgi=0
expect queued=0
iopf-responses iopf=pf dev=gpu
expect count=1
iopf-stats iopf=pf
expect depth=7 capacity=7 overflow=yes overflows=1 full=3 auto-success=1
# sticky: processed, the queue is empty, and still refuses until cleared
iopf-process iopf=pf
expect processed=7
iopf-report iopf=pf dev=gpu pasid=2 prgi=42
expect queued=0
iopf-clear-overflow iopf=pf
expect was=yes
iopf-stats iopf=pf
expect overflow=no
iopf-report iopf=pf dev=gpu pasid=2 prgi=42
expect queued=1
iopf-process iopf=pf
iopf-responses iopf=pf dev=gpu
