# I/O page tables: the same mappings in every format, entry by entry.
# Table pages come from phys_base (0x10000000): root first, then one page
# per new table, so every entry below is fixed.
#
# VT-d second stage, 3 levels (39-bit, QEMU's default): tables R|W (0x3);
# leaves R=bit0 W=bit1 PS=bit7 SNP=bit11.
pt-create name=vtd fmt=vtd-ss levels=3
pt-map pt=vtd iova=0x1000 pa=0x12345000 size=4K prot=rw
pt-walk pt=vtd iova=0x1000
expect leaf=4K l2=0x0000000010001003 l1=0x0000000010002003 l0=0x0000000012345003
pt-map pt=vtd iova=2M pa=1G size=2M prot=rc
pt-walk pt=vtd iova=2M
expect leaf=2M l1=0x0000000040000881
pt-map pt=vtd iova=1G pa=2G size=1G prot=w
pt-walk pt=vtd iova=0x7fffffff
expect leaf=1G l2=0x0000000080000082
pt-walk pt=vtd iova=3G
expect leaf=none l2=0x0000000000000000
# the dump in the layout of Linux's domain_translation_struct
pt-dump pt=vtd dev=0000:00:1f.2
# 4 and 5 levels: 48- and 57-bit; with SLEE, X (bit 2) in tables and leaves
pt-create name=vtd4 fmt=vtd-ss levels=4 exec=yes
pt-map pt=vtd4 iova=0xffffffff000 pa=0x5000 size=4K prot=rwn
pt-map pt=vtd4 iova=0 pa=0x6000 size=4K prot=r
pt-walk pt=vtd4 iova=0xffffffff000
expect l3=0x0000000010001007 l0=0x0000000000005003
pt-walk pt=vtd4 iova=0
expect l0=0x0000000000006005
pt-create name=vtd5 fmt=vtd-ss levels=5
pt-map pt=vtd5 iova=0x1fffffffffff000 pa=0xfffff000 size=4K prot=r
pt-dump pt=vtd5 dev=0000:3a:00.1 pasid=0
# x86-64 (and VT-d first stage): tables P|RW|US|A (0x27); leaves P RW US,
# PCD|PWT for MMIO, PS, XD (bit 63); supervisor pages lack US
pt-create name=x86 fmt=x86-64
pt-map pt=x86 iova=0x1000 pa=0x12345000 size=4K prot=rw
pt-map pt=x86 iova=2M pa=1G size=2M prot=rpn
pt-map pt=x86 iova=1G pa=2G size=1G prot=rwm
pt-dump pt=x86 dev=0001:00:02.0 pasid=0x1f
pt-create name=x86v fmt=x86-64 levels=5
pt-map pt=x86v iova=0xfff0000000000 pa=0 size=2M
pt-walk pt=x86v iova=0xfff0000000000
expect leaf=2M l4=0x0000000010001027 l1=0x0000000000000087
# Arm LPAE stage 1, 4 KiB granule: tables 0b11; pages 0b11, blocks 0b01;
# AttrIndx 4:2, AP[1]=bit6, AP[2]=bit7, SH 9:8, AF, nG, PXN|UXN (bits 53-54)
pt-create name=arm fmt=arm-lpae-s1
pt-map pt=arm iova=0x1000 pa=0x12345000 size=4K prot=rw
pt-map pt=arm iova=2M pa=1G size=2M prot=rc
pt-map pt=arm iova=1G pa=2G size=1G prot=rwpmn
pt-dump pt=arm
# with hardware dirty state (DBM): writable-clean is DBM|AP[2]
pt-create name=armd fmt=arm-lpae-s1 dirty=yes
pt-map pt=armd iova=0 pa=0x7000 size=4K prot=rw
pt-walk pt=armd iova=0
expect l0=0x0008000000007ec3
pt-info pt=arm
expect pages=4
