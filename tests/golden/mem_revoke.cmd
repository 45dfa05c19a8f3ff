# Revocation (seed 003): later accesses fail ENODEV, the notifier runs (the
# core tears mappings down there), and nothing reaches the region any more:
# the MMIO device logs every call, and none appears after the revoke.
mem-create name=m notify=yes
mem-add mem=m name=ram kind=ram pa=0x10000 size=64K
mem-add mem=m name=dev kind=regs pa=0x20000 size=0x100 log=yes
mem-write mem=m pa=0x20000 data=0100000000000000
mem-read mem=m pa=0x20000 len=4

# a mapping holds the region: destroy is refused, nothing changes
mem-get region=dev
expect users=1
mem-region-destroy region=dev
expect err=EBUSY
mem-info region=dev
expect revoked=no users=1
mem-read mem=m pa=0x20000 len=1

mem-revoke region=dev
mem-info region=dev
expect revoked=yes users=1
mem-read mem=m pa=0x20000 len=4
expect err=ENODEV
mem-write mem=m pa=0x20000 data=ff
expect err=ENODEV
mem-lookup mem=m pa=0x20010
expect err=ENODEV
# an access that spans into a revoked region moves nothing
mem-read mem=m pa=0x1fffc len=8
expect err=ENODEV
mem-get region=dev
expect err=ENODEV
# revoking again is harmless and calls no notifier
mem-revoke region=dev
# the range stays taken until destroy
mem-add mem=m name=dev2 kind=ram pa=0x20000 size=0x100
expect err=EEXIST
mem-put region=dev
expect users=0
mem-region-destroy region=dev
mem-add mem=m name=dev2 kind=ram pa=0x20000 size=0x100
mem-read mem=m pa=0x20000 len=4
expect data=00000000

# destroying a live region revokes it first (the notifier runs)
mem-region-destroy region=dev2
mem-read mem=m pa=0x20000 len=1
expect err=EFAULT

# the map is busy while regions remain
mem-destroy mem=m
expect err=EBUSY
mem-dump mem=m
mem-stats mem=m
expect revokes=2 err_revoked=4
mem-region-destroy region=ram
mem-destroy mem=m
