# yes/no arguments take yes, no, on, off, true, false, 1 or 0.
iova-create name=s last=0xffffffff cache=maybe
