# Arithmetic on a value that is not a number stops the run at its line.
error name=EBUSY as=e
echo msg=$e.name
echo msg=$e.code+1
echo msg=$e.name+1
