# A reference to a variable no command set stops the run at its line.
iova-create name=s last=0xffffffff
iova-alloc space=s size=4K as=first
iova-free space=s iova=$first.iova
iova-free space=s iova=$frist.iova
echo msg="not reached"
