# as=NAME keeps result values: a command without any has nothing to keep.
echo msg=x as=v
