# as= takes the bare name: the $ belongs to the uses.  A syntax error: the
# file is refused before anything runs.
echo msg="not printed"
iova-create name=s last=0xffffffff as=$sp
