# The error table, as the run language shows it.
error name=EEXIST
expect name=EEXIST code=17
error code=16
expect msg="Device or resource busy"
error name=OK
expect code=0
echo msg="numbers compare by value:"
error code=0x10
expect code=16
