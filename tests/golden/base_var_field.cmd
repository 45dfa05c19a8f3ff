# A field the command did not report stops the run at its line.
iova-create name=s last=0xffffffff
iova-alloc space=s size=4K as=buf
expect iova=$buf.iova
iova-free space=s iova=$buf.addr
echo msg="not reached"
