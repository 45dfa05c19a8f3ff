# The physical memory map: library RAM, caller memory and an MMIO register
# file side by side; reads and writes, accesses that cross regions, lookups.
mem-create name=m
mem-add mem=m name=ram kind=ram pa=0x1000 size=4K
mem-add mem=m name=buf kind=host pa=0x2000 size=0x10 fill=0xaa
mem-add mem=m name=dev kind=regs pa=0x2010 size=0x40 log=yes
mem-dump mem=m
expect regions=3

# RAM starts zeroed; what is written reads back
mem-read mem=m pa=0x1000 len=8
expect data=0000000000000000
mem-write mem=m pa=0x1ffc data=deadbeef
mem-read mem=m pa=0x1ff8 len=8
expect data=00000000deadbeef

# caller memory holds what the caller put there
mem-read mem=m pa=0x200e len=2
expect data=aaaa

# MMIO: accesses are split into naturally aligned pieces, little-endian
mem-write mem=m pa=0x2012 data=0102030405060708090a0b0c0d0e
mem-read mem=m pa=0x2010 len=16
expect data=00000102030405060708090a0b0c0d0e
mem-read mem=m pa=0x2018 len=8

# accesses across adjacent regions: RAM into caller memory, caller memory
# into MMIO, and all three at once
mem-write mem=m pa=0x1ffe data=1122
mem-read mem=m pa=0x1ffe len=4
expect data=1122aaaa
mem-write mem=m pa=0x200e data=33445566
mem-read mem=m pa=0x200e len=4
expect data=33445566
mem-read mem=m pa=0x1fff len=0x13
expect data=22aaaaaaaaaaaaaaaaaaaaaaaaaaaa33445566

# lookups
mem-lookup mem=m pa=0x2000
expect region=buf type=host offset=0 len=0x10
mem-lookup mem=m pa=0x204f
expect region=dev type=mmio offset=0x3f len=1
mem-lookup mem=m pa=0x2050
expect err=EFAULT
mem-info region=ram
mem-stats mem=m
