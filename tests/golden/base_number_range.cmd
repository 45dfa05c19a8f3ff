# A number that does not fit in 64 bits.
iova-create name=s last=0xffffffffffffffffK
